"""The RSA key user-service signs tokens with: generated inside AWS, kept only in Secrets Manager."""

from aws_cdk import CustomResource, Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import custom_resources as cr
from constructs import Construct

# Node's crypto makes the key; the AWS SDK v3 ships with the Lambda runtime. Only on Create,
# so redeploying never rotates the key (rotation: put a new PEM in the secret, restart users).
GENERATE_KEY = """
const { generateKeyPairSync } = require("node:crypto");
const { SecretsManagerClient, PutSecretValueCommand } = require("@aws-sdk/client-secrets-manager");
exports.handler = async (event) => {
  const secretId = event.ResourceProperties.SecretId;
  if (event.RequestType === "Create") {
    const { privateKey } = generateKeyPairSync("rsa", {
      modulusLength: 2048,
      publicKeyEncoding: { type: "spki", format: "pem" },
      privateKeyEncoding: { type: "pkcs8", format: "pem" },
    });
    const client = new SecretsManagerClient({});
    await client.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: privateKey }));
  }
  return { PhysicalResourceId: secretId };
};
"""


class SigningKeySecret(Construct):
    def __init__(self, scope: Construct, construct_id: str):
        super().__init__(scope, construct_id)
        self.secret = secretsmanager.Secret(
            self, "Secret", description="Library: user-service's RS256 private key (PEM)"
        )
        generator = lambda_.Function(
            self,
            "Generator",
            runtime=lambda_.Runtime.NODEJS_24_X,
            handler="index.handler",
            code=lambda_.Code.from_inline(GENERATE_KEY),
            timeout=Duration.seconds(30),
            description="Library: writes a fresh RSA private key into the signing-key secret",
        )
        self.secret.grant_write(generator)
        provider = cr.Provider(self, "Provider", on_event_handler=generator)
        self.resource = CustomResource(
            self, "Key", service_token=provider.service_token, properties={"SecretId": self.secret.secret_arn}
        )
