use clap::Parser;

use super::*;

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: ConnectionArgs,
}

#[test]
fn secrets_from_the_command_line_never_show_in_debug_output() {
    let cli = Cli::parse_from([
        "x",
        "--api-key",
        "IST.key-value",
        "--oauth-token",
        "OAUTH.token-value",
        "update",
        "shop",
        "--rotate-secret",
        "--secret",
        "connection-secret",
    ]);
    let text = format!("{:?}", cli.args);
    for secret in ["IST.key-value", "OAUTH.token-value", "connection-secret"] {
        assert!(!text.contains(secret), "{text}");
    }
    assert!(text.contains("shop"));
    let Some(SecretArg(key)) = &cli.args.api_key else {
        panic!("no key parsed");
    };
    assert_eq!(key, "IST.key-value");
}
