//! Built-in detector names, in precedence order (earlier wins when two find the same span): private keys and JWTs,
//! every vendor credential, the generic credential families, then personal data. Labels are the names upper-cased.

/// A built-in detector: its index in [`NAMES`].
pub(super) type Det = u8;

/// Every built-in detector name, in precedence order.
pub(super) const NAMES: [&str; 110] = [
    "private_key",
    "jwt",
    "openai_key",
    "anthropic_key",
    "groq_key",
    "xai_key",
    "openrouter_key",
    "perplexity_key",
    "huggingface_token",
    "replicate_token",
    "nvidia_key",
    "langsmith_key",
    "langfuse_key",
    "pinecone_key",
    "together_key",
    "llamacloud_key",
    "tavily_key",
    "elevenlabs_key",
    "aws_bedrock_key",
    "google_api_key",
    "google_oauth_token",
    "github_token",
    "gitlab_token",
    "atlassian_token",
    "npm_token",
    "pypi_token",
    "rubygems_key",
    "nuget_key",
    "clojars_token",
    "docker_token",
    "circleci_token",
    "buildkite_token",
    "sonar_token",
    "sourcegraph_token",
    "pulumi_token",
    "hashicorp_token",
    "prefect_key",
    "readme_key",
    "postman_key",
    "linear_key",
    "notion_token",
    "figma_token",
    "vercel_token",
    "netlify_token",
    "supabase_token",
    "posthog_key",
    "sentry_token",
    "grafana_token",
    "newrelic_key",
    "dynatrace_token",
    "doppler_token",
    "planetscale_token",
    "digitalocean_token",
    "databricks_token",
    "heroku_key",
    "flyio_token",
    "tailscale_key",
    "cloudflare_token",
    "onepassword_token",
    "age_secret_key",
    "jfrog_token",
    "alibaba_key",
    "adobe_key",
    "duffel_token",
    "easypost_key",
    "flutterwave_key",
    "frameio_token",
    "shippo_token",
    "typeform_token",
    "scalingo_token",
    "brevo_key",
    "sendgrid_key",
    "mailgun_key",
    "mailchimp_key",
    "twilio_key",
    "stripe_key",
    "square_token",
    "braintree_token",
    "shopify_token",
    "plaid_token",
    "facebook_token",
    "twitter_token",
    "slack_token",
    "discord_token",
    "telegram_token",
    "okta_token",
    "aws_access_key",
    "aws_session_token",
    "aws_mws_key",
    "aws_appsync_key",
    "azure_key",
    "teams_webhook",
    "datadog_key",
    "cohere_key",
    "mistral_key",
    "gcp_credential",
    "snyk_token",
    "aws_secret_key",
    "bearer_token",
    "authorization",
    "url_password",
    "password",
    "secret",
    "signed_url",
    "card",
    "iban",
    "ssn",
    "email",
    "phone",
    "ip",
];

pub(super) const PRIVATE_KEY: Det = 0;
pub(super) const JWT: Det = 1;
pub(super) const OPENAI_KEY: Det = 2;
pub(super) const ANTHROPIC_KEY: Det = 3;
pub(super) const GROQ_KEY: Det = 4;
pub(super) const XAI_KEY: Det = 5;
pub(super) const OPENROUTER_KEY: Det = 6;
pub(super) const PERPLEXITY_KEY: Det = 7;
pub(super) const HUGGINGFACE_TOKEN: Det = 8;
pub(super) const REPLICATE_TOKEN: Det = 9;
pub(super) const NVIDIA_KEY: Det = 10;
pub(super) const LANGSMITH_KEY: Det = 11;
pub(super) const LANGFUSE_KEY: Det = 12;
pub(super) const PINECONE_KEY: Det = 13;
pub(super) const TOGETHER_KEY: Det = 14;
pub(super) const LLAMACLOUD_KEY: Det = 15;
pub(super) const TAVILY_KEY: Det = 16;
pub(super) const ELEVENLABS_KEY: Det = 17;
pub(super) const AWS_BEDROCK_KEY: Det = 18;
pub(super) const GOOGLE_API_KEY: Det = 19;
pub(super) const GOOGLE_OAUTH_TOKEN: Det = 20;
pub(super) const GITHUB_TOKEN: Det = 21;
pub(super) const GITLAB_TOKEN: Det = 22;
pub(super) const ATLASSIAN_TOKEN: Det = 23;
pub(super) const NPM_TOKEN: Det = 24;
pub(super) const PYPI_TOKEN: Det = 25;
pub(super) const RUBYGEMS_KEY: Det = 26;
pub(super) const NUGET_KEY: Det = 27;
pub(super) const CLOJARS_TOKEN: Det = 28;
pub(super) const DOCKER_TOKEN: Det = 29;
pub(super) const CIRCLECI_TOKEN: Det = 30;
pub(super) const BUILDKITE_TOKEN: Det = 31;
pub(super) const SONAR_TOKEN: Det = 32;
pub(super) const SOURCEGRAPH_TOKEN: Det = 33;
pub(super) const PULUMI_TOKEN: Det = 34;
pub(super) const HASHICORP_TOKEN: Det = 35;
pub(super) const PREFECT_KEY: Det = 36;
pub(super) const README_KEY: Det = 37;
pub(super) const POSTMAN_KEY: Det = 38;
pub(super) const LINEAR_KEY: Det = 39;
pub(super) const NOTION_TOKEN: Det = 40;
pub(super) const FIGMA_TOKEN: Det = 41;
pub(super) const VERCEL_TOKEN: Det = 42;
pub(super) const NETLIFY_TOKEN: Det = 43;
pub(super) const SUPABASE_TOKEN: Det = 44;
pub(super) const POSTHOG_KEY: Det = 45;
pub(super) const SENTRY_TOKEN: Det = 46;
pub(super) const GRAFANA_TOKEN: Det = 47;
pub(super) const NEWRELIC_KEY: Det = 48;
pub(super) const DYNATRACE_TOKEN: Det = 49;
pub(super) const DOPPLER_TOKEN: Det = 50;
pub(super) const PLANETSCALE_TOKEN: Det = 51;
pub(super) const DIGITALOCEAN_TOKEN: Det = 52;
pub(super) const DATABRICKS_TOKEN: Det = 53;
pub(super) const HEROKU_KEY: Det = 54;
pub(super) const FLYIO_TOKEN: Det = 55;
pub(super) const TAILSCALE_KEY: Det = 56;
pub(super) const CLOUDFLARE_TOKEN: Det = 57;
pub(super) const ONEPASSWORD_TOKEN: Det = 58;
pub(super) const AGE_SECRET_KEY: Det = 59;
pub(super) const JFROG_TOKEN: Det = 60;
pub(super) const ALIBABA_KEY: Det = 61;
pub(super) const ADOBE_KEY: Det = 62;
pub(super) const DUFFEL_TOKEN: Det = 63;
pub(super) const EASYPOST_KEY: Det = 64;
pub(super) const FLUTTERWAVE_KEY: Det = 65;
pub(super) const FRAMEIO_TOKEN: Det = 66;
pub(super) const SHIPPO_TOKEN: Det = 67;
pub(super) const TYPEFORM_TOKEN: Det = 68;
pub(super) const SCALINGO_TOKEN: Det = 69;
pub(super) const BREVO_KEY: Det = 70;
pub(super) const SENDGRID_KEY: Det = 71;
pub(super) const MAILGUN_KEY: Det = 72;
pub(super) const MAILCHIMP_KEY: Det = 73;
pub(super) const TWILIO_KEY: Det = 74;
pub(super) const STRIPE_KEY: Det = 75;
pub(super) const SQUARE_TOKEN: Det = 76;
pub(super) const BRAINTREE_TOKEN: Det = 77;
pub(super) const SHOPIFY_TOKEN: Det = 78;
pub(super) const PLAID_TOKEN: Det = 79;
pub(super) const FACEBOOK_TOKEN: Det = 80;
pub(super) const TWITTER_TOKEN: Det = 81;
pub(super) const SLACK_TOKEN: Det = 82;
pub(super) const DISCORD_TOKEN: Det = 83;
pub(super) const TELEGRAM_TOKEN: Det = 84;
pub(super) const OKTA_TOKEN: Det = 85;
pub(super) const AWS_ACCESS_KEY: Det = 86;
pub(super) const AWS_SESSION_TOKEN: Det = 87;
pub(super) const AWS_MWS_KEY: Det = 88;
pub(super) const AWS_APPSYNC_KEY: Det = 89;
pub(super) const AZURE_KEY: Det = 90;
pub(super) const TEAMS_WEBHOOK: Det = 91;
pub(super) const DATADOG_KEY: Det = 92;
pub(super) const COHERE_KEY: Det = 93;
pub(super) const MISTRAL_KEY: Det = 94;
pub(super) const GCP_CREDENTIAL: Det = 95;
pub(super) const SNYK_TOKEN: Det = 96;
pub(super) const AWS_SECRET_KEY: Det = 97;
pub(super) const BEARER_TOKEN: Det = 98;
pub(super) const AUTHORIZATION: Det = 99;
pub(super) const URL_PASSWORD: Det = 100;
pub(super) const PASSWORD: Det = 101;
pub(super) const SECRET: Det = 102;
pub(super) const SIGNED_URL: Det = 103;
pub(super) const CARD: Det = 104;
pub(super) const IBAN: Det = 105;
pub(super) const SSN: Det = 106;
pub(super) const EMAIL: Det = 107;
pub(super) const PHONE: Det = 108;
pub(super) const IP: Det = 109;

/// The personal-data detectors (the `pii` group of `redaction.detectors`); every other one is in `secrets`.
pub(super) const PII: [Det; 6] = [CARD, IBAN, SSN, EMAIL, PHONE, IP];
