def test_health_and_readiness(client):
    assert client.get("/health").json == {"status": "ok", "service": "user-service"}
    assert client.get("/ready").json["status"] == "ready"


def test_request_id_is_echoed_or_generated(client):
    assert client.get("/health", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"] == "abc-123"
    generated = client.get("/health", headers={"X-Request-ID": "bad id with spaces"}).headers["X-Request-ID"]
    assert generated != "bad id with spaces" and len(generated) == 32


def test_openapi_document_and_docs(client):
    spec = client.get("/openapi.json").json
    assert spec["openapi"].startswith("3.")
    assert {"/register", "/login", "/users", "/users/{username}", "/me", "/.well-known/jwks.json"} <= set(spec["paths"])
    assert "400" in spec["paths"]["/register"]["post"]["responses"]
    assert client.get("/docs").status_code == 200


def test_unknown_routes_and_methods_are_json(client):
    assert client.get("/nope").json["message"]
    response = client.delete("/register")
    assert response.status_code == 405 and response.json["message"]
