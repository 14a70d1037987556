//! The extension's settings: what they switch, the values they refuse, and the README's list of
//! them.

#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;

    use crate::tests::support::{observe_everything, rows, run, trajectories_so_far};

    #[pg_test]
    fn disabled_or_unsampled_statements_are_not_observed() {
        run("SELECT microlora.reset()");
        let before = trajectories_so_far();
        run("SET microlora.enabled = off; SELECT count(*) FROM generate_series(1, 100)");
        run("SET microlora.enabled = on; SET microlora.track = 'all'; SET microlora.sample_rate = 0;
             SELECT count(*) FROM generate_series(1, 100)");
        // track = top: our statements run inside the test function, one level down.
        run("SET microlora.sample_rate = 1; SET microlora.track = 'top';
             SELECT count(*) FROM generate_series(1, 100)");
        run("SET microlora.enabled = off");
        assert_eq!(trajectories_so_far(), before);
        observe_everything();
        run("SELECT count(*) FROM generate_series(1, 100)");
        run("SET microlora.enabled = off");
        assert!(trajectories_so_far() > before);
    }

    #[pg_test(error = "1.5 is outside the valid range for parameter \"microlora.sample_rate\" (0 .. 1)")]
    fn sample_rate_above_one_is_refused() {
        run("SET microlora.sample_rate = 1.5");
    }

    #[pg_test(error = "invalid value for parameter \"microlora.track\": \"some\"")]
    fn unknown_track_value_is_refused() {
        run("SET microlora.track = 'some'");
    }

    #[pg_test]
    fn the_readme_lists_every_setting_with_its_default_and_context() {
        let listed: std::collections::BTreeSet<Vec<String>> = include_str!("../../../README.md")
            .lines()
            .filter(|line| line.starts_with("| `microlora."))
            .map(|line| {
                let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
                vec![cells[0].trim_matches('`').to_string(), cells[1].to_string(), cells[2].to_string()]
            })
            .collect();
        let actual: std::collections::BTreeSet<Vec<String>> =
            rows("SELECT name, boot_val, context FROM pg_settings WHERE name LIKE 'microlora.%'")
                .into_iter()
                .collect();
        assert_eq!(listed, actual);
    }
}
