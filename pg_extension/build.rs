//! Compiles the hooks' C shim (`src/hooks.c`) against the server headers of the PostgreSQL that
//! pgrx builds for: `PGRX_PG_CONFIG_PATH` when cargo-pgrx sets it, else the pg15 entry of
//! cargo-pgrx's config.toml (`cargo pgrx init --pg15 …`).

use pgrx_pg_config::{PgConfig, Pgrx};

fn main() {
    println!("cargo:rerun-if-changed=src/hooks.c");
    println!("cargo:rerun-if-env-changed=PGRX_PG_CONFIG_PATH");
    let config = match std::env::var("PGRX_PG_CONFIG_PATH") {
        Ok(path) => PgConfig::new_with_defaults(path.into()),
        Err(_) => Pgrx::from_config().and_then(|pgrx| pgrx.get("pg15")).unwrap_or_else(|error| {
            panic!("no PostgreSQL 15 to build against ({error}): run `cargo pgrx init --pg15 …`")
        }),
    };
    let includedir = config
        .includedir_server()
        .unwrap_or_else(|error| panic!("cannot ask pg_config for the server headers: {error}"));
    cc::Build::new()
        .file("src/hooks.c")
        .include(includedir)
        // PostgreSQL's own headers and style trip these.
        .flag_if_supported("-Wno-unused-parameter")
        .flag_if_supported("-Wno-missing-field-initializers")
        .flag_if_supported("-Wno-sign-compare")
        .compile("microlora_hooks");
}
