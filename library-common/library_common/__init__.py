"""Plumbing shared by the library's services.

Every service builds its Flask app with :func:`library_common.app.create_service_app`,
which wires in configuration, JSON errors, request ids and logging, health checks,
the OpenAPI documentation and the database. Nothing here knows about books, users or loans.
"""
