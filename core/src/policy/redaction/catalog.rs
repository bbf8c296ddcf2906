//! Credential shapes anchored by a literal prefix (or a URL host and path), in catalog order: a literal, then runs of a
//! charset with their lengths. Facts (anchors, charsets, lengths) come from public secret-scanner rule sets (gitleaks,
//! trufflehog, CredSweeper, detect-secrets, Microsoft security-utilities); the table was written for this project.
//! Matching rules are in [`super::shape`].

use super::charset::*;
use super::names::*;
use super::shape::{Check, Seg::*, Shape};

/// Every prefix- and URL-anchored credential shape.
#[rustfmt::skip]
pub(super) static SHAPES: &[Shape] = &[
    // openai_project_key
    Shape { anchor: b"sk-proj-", det: OPENAI_KEY, segs: &[Run(B64URL, 20, 300)], check: Check::None },
    // openai_service_account_key
    Shape { anchor: b"sk-svcacct-", det: OPENAI_KEY, segs: &[Run(B64URL, 20, 300)], check: Check::None },
    // openai_admin_key
    Shape { anchor: b"sk-admin-", det: OPENAI_KEY, segs: &[Run(B64URL, 20, 300)], check: Check::None },
    // openai_legacy_key
    Shape { anchor: b"sk-", det: OPENAI_KEY, segs: &[Run(B64URL, 20, 300)], check: Check::None },
    // anthropic_api_key
    Shape { anchor: b"sk-ant-api03-", det: ANTHROPIC_KEY, segs: &[Run(B64URL, 93, 93), Lit(b"AA")], check: Check::None },
    // anthropic_admin_key
    Shape { anchor: b"sk-ant-admin01-", det: ANTHROPIC_KEY, segs: &[Run(B64URL, 93, 93), Lit(b"AA")], check: Check::None },
    // anthropic_other_key
    Shape { anchor: b"sk-ant-", det: ANTHROPIC_KEY, segs: &[Run(B64URL, 20, 300)], check: Check::None },
    // groq_key
    Shape { anchor: b"gsk_", det: GROQ_KEY, segs: &[Run(ALNUM, 52, 52)], check: Check::None },
    // xai_key
    Shape { anchor: b"xai-", det: XAI_KEY, segs: &[Run(WORD, 80, 80)], check: Check::None },
    // openrouter_key
    Shape { anchor: b"sk-or-v1-", det: OPENROUTER_KEY, segs: &[Run(LOWER_HEX, 64, 64)], check: Check::None },
    // perplexity_key
    Shape { anchor: b"pplx-", det: PERPLEXITY_KEY, segs: &[Run(B64URL, 40, 64)], check: Check::None },
    // huggingface_token
    Shape { anchor: b"hf_", det: HUGGINGFACE_TOKEN, segs: &[Run(ALNUM, 34, 34)], check: Check::None },
    // huggingface_org_token
    Shape { anchor: b"api_org_", det: HUGGINGFACE_TOKEN, segs: &[Run(ALNUM, 34, 34)], check: Check::None },
    // replicate_token
    Shape { anchor: b"r8_", det: REPLICATE_TOKEN, segs: &[Run(B64URL, 37, 37)], check: Check::None },
    // nvidia_key
    Shape { anchor: b"nvapi-", det: NVIDIA_KEY, segs: &[Run(B64URL, 64, 64)], check: Check::None },
    // langsmith_key
    Shape { anchor: b"lsv2_pt_", det: LANGSMITH_KEY, segs: &[Run(LOWER_HEX, 32, 32), Lit(b"_"), Run(LOWER_HEX, 10, 10)], check: Check::None },
    // langsmith_service_key
    Shape { anchor: b"lsv2_sk_", det: LANGSMITH_KEY, segs: &[Run(LOWER_HEX, 32, 32), Lit(b"_"), Run(LOWER_HEX, 10, 10)], check: Check::None },
    // langfuse_secret_key
    Shape { anchor: b"sk-lf-", det: LANGFUSE_KEY, segs: &[Run(LOWER_HEX, 8, 8), Lit(b"-"), Run(LOWER_HEX, 4, 4), Lit(b"-"), Run(LOWER_HEX, 4, 4), Lit(b"-"), Run(LOWER_HEX, 4, 4), Lit(b"-"), Run(LOWER_HEX, 12, 12)], check: Check::None },
    // pinecone_key
    Shape { anchor: b"pcsk_", det: PINECONE_KEY, segs: &[Run(ALNUM, 5, 6), Lit(b"_"), Run(ALNUM, 63, 63)], check: Check::None },
    // together_key
    Shape { anchor: b"tgp_v1_", det: TOGETHER_KEY, segs: &[Run(B64URL, 43, 43)], check: Check::None },
    // llamacloud_key
    Shape { anchor: b"llx-", det: LLAMACLOUD_KEY, segs: &[Run(B64URL, 48, 48)], check: Check::None },
    // tavily_key
    Shape { anchor: b"tvly-", det: TAVILY_KEY, segs: &[Run(B64URL, 32, 48)], check: Check::None },
    // elevenlabs_key
    Shape { anchor: b"sk_", det: ELEVENLABS_KEY, segs: &[Run(LOWER_HEX, 48, 48)], check: Check::None },
    // aws_bedrock_long_term_key
    Shape { anchor: b"ABSK", det: AWS_BEDROCK_KEY, segs: &[Run(B64, 109, 269), Pad(2)], check: Check::None },
    // aws_bedrock_short_term_key
    Shape { anchor: b"bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t", det: AWS_BEDROCK_KEY, segs: &[Run(B64, 20, 2000), Pad(2)], check: Check::None },
    // google_api_key
    Shape { anchor: b"AIza", det: GOOGLE_API_KEY, segs: &[Run(B64URL, 35, 35)], check: Check::None },
    // google_oauth_access_token
    Shape { anchor: b"ya29.", det: GOOGLE_OAUTH_TOKEN, segs: &[Run(B64URL, 20, 2048)], check: Check::None },
    // google_oauth_refresh_token
    Shape { anchor: b"1//0", det: GOOGLE_OAUTH_TOKEN, segs: &[Run(B64URL, 40, 512)], check: Check::None },
    // google_oauth_client_secret
    Shape { anchor: b"GOCSPX-", det: GOOGLE_OAUTH_TOKEN, segs: &[Run(B64URL, 28, 28)], check: Check::None },
    // github_classic_pat
    Shape { anchor: b"ghp_", det: GITHUB_TOKEN, segs: &[Run(WORD, 36, 255)], check: Check::None },
    // github_oauth_token
    Shape { anchor: b"gho_", det: GITHUB_TOKEN, segs: &[Run(WORD, 36, 255)], check: Check::None },
    // github_user_to_server_token
    Shape { anchor: b"ghu_", det: GITHUB_TOKEN, segs: &[Run(WORD, 36, 255)], check: Check::None },
    // github_server_to_server_token
    Shape { anchor: b"ghs_", det: GITHUB_TOKEN, segs: &[Run(WORD, 36, 255)], check: Check::None },
    // github_refresh_token
    Shape { anchor: b"ghr_", det: GITHUB_TOKEN, segs: &[Run(WORD, 36, 255)], check: Check::None },
    // github_fine_grained_pat
    Shape { anchor: b"github_pat_", det: GITHUB_TOKEN, segs: &[Run(ALNUM, 22, 22), Lit(b"_"), Run(ALNUM, 59, 59)], check: Check::None },
    // github_fine_grained_pat, the broader form accepted before (22..255 word characters)
    Shape { anchor: b"github_pat_", det: GITHUB_TOKEN, segs: &[Run(WORD, 22, 255)], check: Check::None },
    // github_app_installation_token
    Shape { anchor: b"ghs_", det: GITHUB_TOKEN, segs: &[Run(DIGIT, 1, 20), Lit(b"_eyJ"), Run(B64URL, 15, 800)], check: Check::None },
    // gitlab_pat
    Shape { anchor: b"glpat-", det: GITLAB_TOKEN, segs: &[Run(CS_P, 20, 320)], check: Check::None },
    // gitlab_deploy_token
    Shape { anchor: b"gldt-", det: GITLAB_TOKEN, segs: &[Run(B64URL, 20, 64)], check: Check::None },
    // gitlab_feed_token
    Shape { anchor: b"glft-", det: GITLAB_TOKEN, segs: &[Run(B64URL, 20, 64)], check: Check::None },
    // gitlab_runner_token
    Shape { anchor: b"glrt-", det: GITLAB_TOKEN, segs: &[Run(CS_P, 20, 320)], check: Check::None },
    // gitlab_pipeline_trigger_token
    Shape { anchor: b"glptt-", det: GITLAB_TOKEN, segs: &[Run(LOWER_HEX, 40, 40)], check: Check::None },
    // gitlab_scim_token
    Shape { anchor: b"glsoat-", det: GITLAB_TOKEN, segs: &[Run(B64URL, 20, 64)], check: Check::None },
    // gitlab_feature_flag_token
    Shape { anchor: b"glffct-", det: GITLAB_TOKEN, segs: &[Run(B64URL, 20, 64)], check: Check::None },
    // gitlab_incoming_mail_token
    Shape { anchor: b"glimt-", det: GITLAB_TOKEN, segs: &[Run(B64URL, 25, 64)], check: Check::None },
    // gitlab_agent_token
    Shape { anchor: b"glagent-", det: GITLAB_TOKEN, segs: &[Run(B64URL, 50, 64)], check: Check::None },
    // gitlab_oauth_secret
    Shape { anchor: b"gloas-", det: GITLAB_TOKEN, segs: &[Run(B64URL, 64, 64)], check: Check::None },
    // gitlab_runner_registration_token
    Shape { anchor: b"GR1348941", det: GITLAB_TOKEN, segs: &[Run(B64URL, 20, 64)], check: Check::None },
    // gitlab_pat_routable
    Shape { anchor: b"glpat-", det: GITLAB_TOKEN, segs: &[Run(CS_P, 20, 320)], check: Check::None },
    // gitlab_cicd_job_token
    Shape { anchor: b"glcbt-", det: GITLAB_TOKEN, segs: &[Run(ALNUM, 1, 5), Lit(b"_"), Run(B64URL, 20, 64)], check: Check::None },
    // bitbucket_app_password
    Shape { anchor: b"ATBB", det: ATLASSIAN_TOKEN, segs: &[Run(ALNUM, 24, 24), Run(UPPER_HEX, 8, 8)], check: Check::None },
    // atlassian_api_token
    Shape { anchor: b"ATATT3", det: ATLASSIAN_TOKEN, segs: &[Run(CS_E, 150, 250), Run(UPPER_HEX, 8, 8)], check: Check::None },
    // bitbucket_repository_access_token
    Shape { anchor: b"ATCTT3xFfG", det: ATLASSIAN_TOKEN, segs: &[Run(CS_E, 150, 250), Run(UPPER_HEX, 8, 8)], check: Check::None },
    // bitbucket_data_center_token
    Shape { anchor: b"BBDC-", det: ATLASSIAN_TOKEN, segs: &[Run(CS_C, 40, 50)], check: Check::None },
    // npm_token
    Shape { anchor: b"npm_", det: NPM_TOKEN, segs: &[Run(ALNUM, 36, 36)], check: Check::None },
    // pypi_token
    Shape { anchor: b"pypi-AgEIcHlwaS5vcmc", det: PYPI_TOKEN, segs: &[Run(B64URL, 50, 1000)], check: Check::None },
    // pypi_test_token
    Shape { anchor: b"pypi-AgENdGVzdC5weXBpLm9yZw", det: PYPI_TOKEN, segs: &[Run(B64URL, 50, 1000)], check: Check::None },
    // rubygems_key
    Shape { anchor: b"rubygems_", det: RUBYGEMS_KEY, segs: &[Run(LOWER_ALNUM, 48, 48)], check: Check::None },
    // nuget_key
    Shape { anchor: b"oy2", det: NUGET_KEY, segs: &[Run(LOWER_BASE32, 43, 43)], check: Check::Mix },
    // clojars_token
    Shape { anchor: b"CLOJARS_", det: CLOJARS_TOKEN, segs: &[Run(ALNUM, 60, 60)], check: Check::None },
    // docker_pat
    Shape { anchor: b"dckr_pat_", det: DOCKER_TOKEN, segs: &[Run(B64URL, 27, 32)], check: Check::None },
    // docker_oat
    Shape { anchor: b"dckr_oat_", det: DOCKER_TOKEN, segs: &[Run(B64URL, 32, 32)], check: Check::None },
    // circleci_pat
    Shape { anchor: b"CCIPAT_", det: CIRCLECI_TOKEN, segs: &[Run(ALNUM, 22, 22), Lit(b"_"), Run(LOWER_HEX, 40, 40)], check: Check::None },
    // buildkite_token
    Shape { anchor: b"bkua_", det: BUILDKITE_TOKEN, segs: &[Run(LOWER_HEX, 40, 40)], check: Check::None },
    // sonar_token_u
    Shape { anchor: b"squ_", det: SONAR_TOKEN, segs: &[Run(LOWER_HEX, 40, 40)], check: Check::None },
    // sonar_token_p
    Shape { anchor: b"sqp_", det: SONAR_TOKEN, segs: &[Run(LOWER_HEX, 40, 40)], check: Check::None },
    // sonar_token_a
    Shape { anchor: b"sqa_", det: SONAR_TOKEN, segs: &[Run(LOWER_HEX, 40, 40)], check: Check::None },
    // sonarcloud_token
    Shape { anchor: b"sqco_", det: SONAR_TOKEN, segs: &[Run(ALNUM, 59, 59)], check: Check::None },
    // sourcegraph_token
    Shape { anchor: b"sgp_", det: SOURCEGRAPH_TOKEN, segs: &[Run(LOWER_HEX, 16, 16), Lit(b"_"), Run(LOWER_HEX, 40, 40)], check: Check::None },
    // sourcegraph_token_short
    Shape { anchor: b"sgp_", det: SOURCEGRAPH_TOKEN, segs: &[Run(LOWER_HEX, 40, 40)], check: Check::None },
    // pulumi_token
    Shape { anchor: b"pul-", det: PULUMI_TOKEN, segs: &[Run(LOWER_ALNUM, 40, 40)], check: Check::None },
    // vault_service_token
    Shape { anchor: b"hvs.", det: HASHICORP_TOKEN, segs: &[Run(B64URL, 90, 120)], check: Check::None },
    // vault_batch_token
    Shape { anchor: b"hvb.", det: HASHICORP_TOKEN, segs: &[Run(B64URL, 138, 300)], check: Check::None },
    // prefect_key
    Shape { anchor: b"pnu_", det: PREFECT_KEY, segs: &[Run(ALNUM, 36, 36)], check: Check::None },
    // readme_key
    Shape { anchor: b"rdme_", det: README_KEY, segs: &[Run(LOWER_ALNUM, 70, 70)], check: Check::None },
    // postman_api_key
    Shape { anchor: b"PMAK-", det: POSTMAN_KEY, segs: &[Run(LOWER_HEX, 24, 24), Lit(b"-"), Run(LOWER_HEX, 34, 34)], check: Check::None },
    // postman_collection_token
    Shape { anchor: b"PMAT-", det: POSTMAN_KEY, segs: &[Run(UPPER_ALNUM, 26, 26)], check: Check::None },
    // linear_key
    Shape { anchor: b"lin_api_", det: LINEAR_KEY, segs: &[Run(ALNUM, 40, 40)], check: Check::None },
    // notion_token
    Shape { anchor: b"ntn_", det: NOTION_TOKEN, segs: &[Run(DIGIT, 11, 11), Run(ALNUM, 35, 35)], check: Check::None },
    // notion_token_legacy
    Shape { anchor: b"secret_", det: NOTION_TOKEN, segs: &[Run(ALNUM, 43, 43)], check: Check::Mix },
    // figma_pat
    Shape { anchor: b"figd_", det: FIGMA_TOKEN, segs: &[Run(CS_E, 40, 54)], check: Check::None },
    // figma_pat_v2
    Shape { anchor: b"figp_", det: FIGMA_TOKEN, segs: &[Run(CS_E, 40, 54)], check: Check::None },
    // vercel_token
    Shape { anchor: b"vcp_", det: VERCEL_TOKEN, segs: &[Run(ALNUM, 56, 56)], check: Check::None },
    // netlify_token
    Shape { anchor: b"nfp_", det: NETLIFY_TOKEN, segs: &[Run(ALNUM, 36, 36)], check: Check::None },
    // supabase_token
    Shape { anchor: b"sbp_", det: SUPABASE_TOKEN, segs: &[Run(LOWER_ALNUM, 40, 40)], check: Check::None },
    // posthog_personal_key
    Shape { anchor: b"phx_", det: POSTHOG_KEY, segs: &[Run(WORD, 43, 48)], check: Check::None },
    // sentry_user_token
    Shape { anchor: b"sntryu_", det: SENTRY_TOKEN, segs: &[Run(LOWER_HEX, 64, 64)], check: Check::None },
    // sentry_org_token
    Shape { anchor: b"sntrys_eyJ", det: SENTRY_TOKEN, segs: &[Run(CS_E, 80, 400)], check: Check::None },
    // grafana_cloud_token
    Shape { anchor: b"glc_", det: GRAFANA_TOKEN, segs: &[Run(B64, 32, 400), Pad(3)], check: Check::None },
    // grafana_service_account_token
    Shape { anchor: b"glsa_", det: GRAFANA_TOKEN, segs: &[Run(WORD, 41, 41)], check: Check::None },
    // grafana_api_key_legacy
    Shape { anchor: b"eyJrIjoi", det: GRAFANA_TOKEN, segs: &[Run(ALNUM, 70, 400), Pad(3)], check: Check::None },
    // newrelic_user_key
    Shape { anchor: b"NRAK-", det: NEWRELIC_KEY, segs: &[Run(UPPER_ALNUM, 27, 27)], check: Check::None },
    // newrelic_insert_key
    Shape { anchor: b"NRII-", det: NEWRELIC_KEY, segs: &[Run(B64URL, 25, 32)], check: Check::None },
    // newrelic_query_key
    Shape { anchor: b"NRIQ-", det: NEWRELIC_KEY, segs: &[Run(B64URL, 25, 32)], check: Check::None },
    // newrelic_browser_key
    Shape { anchor: b"NRJS-", det: NEWRELIC_KEY, segs: &[Run(LOWER_HEX, 19, 19)], check: Check::None },
    // newrelic_browser_key_v2
    Shape { anchor: b"NRBR-", det: NEWRELIC_KEY, segs: &[Run(LOWER_HEX, 19, 20)], check: Check::None },
    // dynatrace_token
    Shape { anchor: b"dt0c01.", det: DYNATRACE_TOKEN, segs: &[Run(UPPER_ALNUM, 24, 24), Lit(b"."), Run(UPPER_ALNUM, 64, 64)], check: Check::None },
    // doppler_token_pt
    Shape { anchor: b"dp.pt.", det: DOPPLER_TOKEN, segs: &[Run(ALNUM, 40, 44)], check: Check::None },
    // doppler_token_st
    Shape { anchor: b"dp.st.", det: DOPPLER_TOKEN, segs: &[Run(ALNUM, 40, 44)], check: Check::None },
    // doppler_token_sa
    Shape { anchor: b"dp.sa.", det: DOPPLER_TOKEN, segs: &[Run(ALNUM, 40, 44)], check: Check::None },
    // doppler_token_ct
    Shape { anchor: b"dp.ct.", det: DOPPLER_TOKEN, segs: &[Run(ALNUM, 40, 44)], check: Check::None },
    // doppler_token_scim
    Shape { anchor: b"dp.scim.", det: DOPPLER_TOKEN, segs: &[Run(ALNUM, 40, 44)], check: Check::None },
    // doppler_token_audit
    Shape { anchor: b"dp.audit.", det: DOPPLER_TOKEN, segs: &[Run(ALNUM, 40, 44)], check: Check::None },
    // planetscale_tkn
    Shape { anchor: b"pscale_tkn_", det: PLANETSCALE_TOKEN, segs: &[Run(CS_P, 32, 64)], check: Check::None },
    // planetscale_pw
    Shape { anchor: b"pscale_pw_", det: PLANETSCALE_TOKEN, segs: &[Run(CS_P, 32, 64)], check: Check::None },
    // planetscale_oauth
    Shape { anchor: b"pscale_oauth_", det: PLANETSCALE_TOKEN, segs: &[Run(CS_P, 32, 64)], check: Check::None },
    // digitalocean_dop
    Shape { anchor: b"dop_v1_", det: DIGITALOCEAN_TOKEN, segs: &[Run(LOWER_HEX, 64, 64)], check: Check::None },
    // digitalocean_doo
    Shape { anchor: b"doo_v1_", det: DIGITALOCEAN_TOKEN, segs: &[Run(LOWER_HEX, 64, 64)], check: Check::None },
    // digitalocean_dor
    Shape { anchor: b"dor_v1_", det: DIGITALOCEAN_TOKEN, segs: &[Run(LOWER_HEX, 64, 64)], check: Check::None },
    // databricks_token
    Shape { anchor: b"dapi", det: DATABRICKS_TOKEN, segs: &[Run(LOWER_HEX, 32, 32)], check: Check::None },
    // heroku_key
    Shape { anchor: b"HRKU-AA", det: HEROKU_KEY, segs: &[Run(B64URL, 58, 58)], check: Check::None },
    // flyio_token
    Shape { anchor: b"fo1_", det: FLYIO_TOKEN, segs: &[Run(B64URL, 43, 43)], check: Check::None },
    // flyio_macaroon
    Shape { anchor: b"fm2_", det: FLYIO_TOKEN, segs: &[Run(B64, 100, 4000), Pad(3)], check: Check::None },
    // tailscale_key
    Shape { anchor: b"tskey-", det: TAILSCALE_KEY, segs: &[Run(LOWER_ALNUM, 3, 10), Lit(b"-"), Run(WORD, 6, 128), Lit(b"-"), Run(WORD, 16, 128)], check: Check::None },
    // cloudflare_cfut
    Shape { anchor: b"cfut_", det: CLOUDFLARE_TOKEN, segs: &[Run(ALNUM, 40, 40), Run(LOWER_HEX, 8, 8)], check: Check::None },
    // cloudflare_cfat
    Shape { anchor: b"cfat_", det: CLOUDFLARE_TOKEN, segs: &[Run(ALNUM, 40, 40), Run(LOWER_HEX, 8, 8)], check: Check::None },
    // cloudflare_cfk
    Shape { anchor: b"cfk_", det: CLOUDFLARE_TOKEN, segs: &[Run(ALNUM, 40, 40), Run(LOWER_HEX, 8, 8)], check: Check::None },
    // cloudflare_origin_ca_key
    Shape { anchor: b"v1.0-", det: CLOUDFLARE_TOKEN, segs: &[Run(LOWER_HEX, 24, 24), Lit(b"-"), Run(LOWER_HEX, 146, 146)], check: Check::None },
    // onepassword_service_token
    Shape { anchor: b"ops_eyJ", det: ONEPASSWORD_TOKEN, segs: &[Run(B64, 250, 4000), Pad(3)], check: Check::None },
    // onepassword_secret_key
    Shape { anchor: b"A3-", det: ONEPASSWORD_TOKEN, segs: &[Run(UPPER_ALNUM, 6, 6), Lit(b"-"), Run(UPPER_ALNUM, 11, 11), Lit(b"-"), Run(UPPER_ALNUM, 5, 5), Lit(b"-"), Run(UPPER_ALNUM, 5, 5), Lit(b"-"), Run(UPPER_ALNUM, 5, 5)], check: Check::None },
    // age_secret_key
    Shape { anchor: b"AGE-SECRET-KEY-1", det: AGE_SECRET_KEY, segs: &[Run(BECH32, 58, 58)], check: Check::None },
    // artifactory_api_key
    Shape { anchor: b"AKCp", det: JFROG_TOKEN, segs: &[Run(ALNUM, 69, 69)], check: Check::None },
    // artifactory_reference_token
    Shape { anchor: b"cmVmdGtu", det: JFROG_TOKEN, segs: &[Run(ALNUM, 56, 56)], check: Check::None },
    // alibaba_access_key_id
    Shape { anchor: b"LTAI", det: ALIBABA_KEY, segs: &[Run(ALNUM, 17, 21)], check: Check::None },
    // adobe_client_secret
    Shape { anchor: b"p8e-", det: ADOBE_KEY, segs: &[Run(ALNUM, 32, 32)], check: Check::None },
    // duffel_test
    Shape { anchor: b"duffel_test_", det: DUFFEL_TOKEN, segs: &[Run(CS_E, 43, 43)], check: Check::None },
    // duffel_live
    Shape { anchor: b"duffel_live_", det: DUFFEL_TOKEN, segs: &[Run(CS_E, 43, 43)], check: Check::None },
    // easypost_ezak
    Shape { anchor: b"EZAK", det: EASYPOST_KEY, segs: &[Run(ALNUM, 54, 54)], check: Check::None },
    // easypost_eztk
    Shape { anchor: b"EZTK", det: EASYPOST_KEY, segs: &[Run(ALNUM, 54, 54)], check: Check::None },
    // flutterwave_secret_key
    Shape { anchor: b"FLWSECK-", det: FLUTTERWAVE_KEY, segs: &[Run(LOWER_HEX, 32, 32), Lit(b"-X")], check: Check::None },
    // flutterwave_secret_key
    Shape { anchor: b"FLWSECK_TEST-", det: FLUTTERWAVE_KEY, segs: &[Run(LOWER_HEX, 32, 32), Lit(b"-X")], check: Check::None },
    // frameio_token
    Shape { anchor: b"fio-u-", det: FRAMEIO_TOKEN, segs: &[Run(B64URL, 64, 64)], check: Check::None },
    // shippo_live
    Shape { anchor: b"shippo_live_", det: SHIPPO_TOKEN, segs: &[Run(LOWER_HEX, 40, 40)], check: Check::None },
    // shippo_test
    Shape { anchor: b"shippo_test_", det: SHIPPO_TOKEN, segs: &[Run(LOWER_HEX, 40, 40)], check: Check::None },
    // typeform_token
    Shape { anchor: b"tfp_", det: TYPEFORM_TOKEN, segs: &[Run(CS_P, 40, 59)], check: Check::None },
    // scalingo_token
    Shape { anchor: b"tk-us-", det: SCALINGO_TOKEN, segs: &[Run(B64URL, 48, 48)], check: Check::None },
    // brevo_key
    Shape { anchor: b"xkeysib-", det: BREVO_KEY, segs: &[Run(LOWER_HEX, 64, 64), Lit(b"-"), Run(ALNUM, 16, 16)], check: Check::None },
    // sendgrid_key
    Shape { anchor: b"SG.", det: SENDGRID_KEY, segs: &[Run(B64URL, 16, 32), Lit(b"."), Run(B64URL, 16, 64)], check: Check::None },
    // mailgun_private_key
    Shape { anchor: b"key-", det: MAILGUN_KEY, segs: &[Run(LOWER_ALNUM, 32, 32)], check: Check::Mix },
    // mailgun_public_key
    Shape { anchor: b"pubkey-", det: MAILGUN_KEY, segs: &[Run(LOWER_ALNUM, 32, 32)], check: Check::Mix },
    // twilio_api_key_sid
    Shape { anchor: b"SK", det: TWILIO_KEY, segs: &[Run(LOWER_HEX, 32, 32)], check: Check::None },
    // twilio_account_sid
    Shape { anchor: b"AC", det: TWILIO_KEY, segs: &[Run(LOWER_HEX, 32, 32)], check: Check::None },
    // stripe_secret_live
    Shape { anchor: b"sk_live_", det: STRIPE_KEY, segs: &[Run(ALNUM, 20, 247)], check: Check::None },
    // stripe_secret_test
    Shape { anchor: b"sk_test_", det: STRIPE_KEY, segs: &[Run(ALNUM, 20, 247)], check: Check::None },
    // stripe_restricted_live
    Shape { anchor: b"rk_live_", det: STRIPE_KEY, segs: &[Run(ALNUM, 20, 247)], check: Check::None },
    // stripe_restricted_test
    Shape { anchor: b"rk_test_", det: STRIPE_KEY, segs: &[Run(ALNUM, 20, 247)], check: Check::None },
    // stripe_webhook_secret
    Shape { anchor: b"whsec_", det: STRIPE_KEY, segs: &[Run(B64, 32, 64), Pad(2)], check: Check::None },
    // square_access_token
    Shape { anchor: b"EAAA", det: SQUARE_TOKEN, segs: &[Run(B64URL, 60, 60)], check: Check::None },
    // square_oauth_secret
    Shape { anchor: b"sq0csp-", det: SQUARE_TOKEN, segs: &[Run(B64URL, 43, 43)], check: Check::None },
    // square_sandbox_secret
    Shape { anchor: b"sandbox-sq0csb-", det: SQUARE_TOKEN, segs: &[Run(B64URL, 43, 43)], check: Check::None },
    // square_legacy_token
    Shape { anchor: b"sq0atp-", det: SQUARE_TOKEN, segs: &[Run(B64URL, 22, 22)], check: Check::None },
    // braintree_token
    Shape { anchor: b"access_token$production$", det: BRAINTREE_TOKEN, segs: &[Run(LOWER_ALNUM, 16, 16), Lit(b"$"), Run(LOWER_ALNUM, 32, 32)], check: Check::None },
    // braintree_token
    Shape { anchor: b"access_token$sandbox$", det: BRAINTREE_TOKEN, segs: &[Run(LOWER_ALNUM, 16, 16), Lit(b"$"), Run(LOWER_ALNUM, 32, 32)], check: Check::None },
    // shopify_at
    Shape { anchor: b"shpat_", det: SHOPIFY_TOKEN, segs: &[Run(HEX, 32, 32)], check: Check::None },
    // shopify_ca
    Shape { anchor: b"shpca_", det: SHOPIFY_TOKEN, segs: &[Run(HEX, 32, 32)], check: Check::None },
    // shopify_pa
    Shape { anchor: b"shppa_", det: SHOPIFY_TOKEN, segs: &[Run(HEX, 32, 32)], check: Check::None },
    // shopify_ss
    Shape { anchor: b"shpss_", det: SHOPIFY_TOKEN, segs: &[Run(HEX, 32, 32)], check: Check::None },
    // shopify_tka
    Shape { anchor: b"shptka_", det: SHOPIFY_TOKEN, segs: &[Run(HEX, 32, 32)], check: Check::None },
    // plaid_access_token
    Shape { anchor: b"access-production-", det: PLAID_TOKEN, segs: &[Run(LOWER_HEX, 8, 8), Lit(b"-"), Run(LOWER_HEX, 4, 4), Lit(b"-"), Run(LOWER_HEX, 4, 4), Lit(b"-"), Run(LOWER_HEX, 4, 4), Lit(b"-"), Run(LOWER_HEX, 12, 12)], check: Check::None },
    // plaid_access_token
    Shape { anchor: b"access-sandbox-", det: PLAID_TOKEN, segs: &[Run(LOWER_HEX, 8, 8), Lit(b"-"), Run(LOWER_HEX, 4, 4), Lit(b"-"), Run(LOWER_HEX, 4, 4), Lit(b"-"), Run(LOWER_HEX, 4, 4), Lit(b"-"), Run(LOWER_HEX, 12, 12)], check: Check::None },
    // plaid_access_token
    Shape { anchor: b"access-development-", det: PLAID_TOKEN, segs: &[Run(LOWER_HEX, 8, 8), Lit(b"-"), Run(LOWER_HEX, 4, 4), Lit(b"-"), Run(LOWER_HEX, 4, 4), Lit(b"-"), Run(LOWER_HEX, 4, 4), Lit(b"-"), Run(LOWER_HEX, 12, 12)], check: Check::None },
    // facebook_access_token
    Shape { anchor: b"EAA", det: FACEBOOK_TOKEN, segs: &[Run(ALNUM, 100, 400)], check: Check::None },
    // instagram_token
    Shape { anchor: b"IGQVJ", det: FACEBOOK_TOKEN, segs: &[Run(B64URL, 100, 4000)], check: Check::None },
    // twitter_bearer_token
    Shape { anchor: b"AAAAAAAAAAAAAAAAAAAAA", det: TWITTER_TOKEN, segs: &[Run(CS_Z, 60, 120)], check: Check::None },
    // slack_xoxb
    Shape { anchor: b"xoxb-", det: SLACK_TOKEN, segs: &[Run(CS_K, 10, 250)], check: Check::None },
    // slack_xoxp
    Shape { anchor: b"xoxp-", det: SLACK_TOKEN, segs: &[Run(CS_K, 10, 250)], check: Check::None },
    // slack_xoxa
    Shape { anchor: b"xoxa-", det: SLACK_TOKEN, segs: &[Run(CS_K, 10, 250)], check: Check::None },
    // slack_xoxr
    Shape { anchor: b"xoxr-", det: SLACK_TOKEN, segs: &[Run(CS_K, 10, 250)], check: Check::None },
    // slack_xoxs
    Shape { anchor: b"xoxs-", det: SLACK_TOKEN, segs: &[Run(CS_K, 10, 250)], check: Check::None },
    // slack_xoxo
    Shape { anchor: b"xoxo-", det: SLACK_TOKEN, segs: &[Run(CS_K, 10, 250)], check: Check::None },
    // slack_xoxe
    Shape { anchor: b"xoxe-", det: SLACK_TOKEN, segs: &[Run(CS_K, 10, 250)], check: Check::None },
    // slack_xoxe_xoxp
    Shape { anchor: b"xoxe.xoxp-", det: SLACK_TOKEN, segs: &[Run(CS_K, 10, 250)], check: Check::None },
    // slack_xoxe_xoxb
    Shape { anchor: b"xoxe.xoxb-", det: SLACK_TOKEN, segs: &[Run(CS_K, 10, 250)], check: Check::None },
    // slack_xapp
    Shape { anchor: b"xapp-", det: SLACK_TOKEN, segs: &[Run(CS_K, 10, 250)], check: Check::None },
    // okta_api_token
    Shape { anchor: b"SSWS 00", det: OKTA_TOKEN, segs: &[Run(B64URL, 40, 40)], check: Check::None },
    // aws_access_key_id
    Shape { anchor: b"AKIA", det: AWS_ACCESS_KEY, segs: &[Run(UPPER_ALNUM, 16, 16)], check: Check::None },
    // aws_access_key_id
    Shape { anchor: b"ASIA", det: AWS_ACCESS_KEY, segs: &[Run(UPPER_ALNUM, 16, 16)], check: Check::None },
    // aws_access_key_id
    Shape { anchor: b"ABIA", det: AWS_ACCESS_KEY, segs: &[Run(UPPER_ALNUM, 16, 16)], check: Check::None },
    // aws_access_key_id
    Shape { anchor: b"ACCA", det: AWS_ACCESS_KEY, segs: &[Run(UPPER_ALNUM, 16, 16)], check: Check::None },
    // aws_session_token
    Shape { anchor: b"IQoJb3JpZ2luX2Vj", det: AWS_SESSION_TOKEN, segs: &[Run(B64, 100, 4000), Pad(3)], check: Check::None },
    // aws_mws_key
    Shape { anchor: b"amzn.mws.", det: AWS_MWS_KEY, segs: &[Run(LOWER_HEX, 8, 8), Lit(b"-"), Run(LOWER_HEX, 4, 4), Lit(b"-"), Run(LOWER_HEX, 4, 4), Lit(b"-"), Run(LOWER_HEX, 4, 4), Lit(b"-"), Run(LOWER_HEX, 12, 12)], check: Check::None },
    // aws_appsync_key
    Shape { anchor: b"da2-", det: AWS_APPSYNC_KEY, segs: &[Run(LOWER_ALNUM, 26, 26)], check: Check::None },
    // slack_webhook
    Shape { anchor: b"hooks.slack.com/services/", det: SLACK_TOKEN, segs: &[Run(ALNUM, 9, 12), Lit(b"/"), Run(ALNUM, 9, 12), Lit(b"/"), Run(ALNUM, 24, 24)], check: Check::None },
    // slack_webhook
    Shape { anchor: b"hooks.slack.com/workflows/", det: SLACK_TOKEN, segs: &[Run(ALNUM, 9, 12), Lit(b"/"), Run(ALNUM, 9, 12), Lit(b"/"), Run(ALNUM, 24, 24)], check: Check::None },
    // slack_webhook
    Shape { anchor: b"hooks.slack.com/triggers/", det: SLACK_TOKEN, segs: &[Run(ALNUM, 9, 12), Lit(b"/"), Run(ALNUM, 9, 12), Lit(b"/"), Run(ALNUM, 24, 24)], check: Check::None },
    // discord_webhook
    Shape { anchor: b"discord.com/api/webhooks/", det: DISCORD_TOKEN, segs: &[Run(DIGIT, 17, 20), Lit(b"/"), Run(B64URL, 60, 68)], check: Check::None },
    // discord_webhook
    Shape { anchor: b"discordapp.com/api/webhooks/", det: DISCORD_TOKEN, segs: &[Run(DIGIT, 17, 20), Lit(b"/"), Run(B64URL, 60, 68)], check: Check::None },
    // teams_webhook
    Shape { anchor: b"webhook.office.com/webhookb2/", det: TEAMS_WEBHOOK, segs: &[Run(URL_PATH, 60, 400)], check: Check::AfterDot },
];
