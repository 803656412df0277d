//! `unlogged-table-in-production`: an UNLOGGED table in a production environment.

use confiture_core::ident::quote_qualified;

use crate::finding::Finding;
use crate::inputs::SchemaInput;
use crate::rule::{Category, Check, Context, Rule};
use crate::rules::util::{table_key, tables};
use crate::Severity;

pub static RULE: Rule = Rule {
    id: "unlogged-table-in-production",
    category: Category::Security,
    severity: Severity::Error,
    summary: "UNLOGGED table in a production environment",
    explanation: "An UNLOGGED table skips the write-ahead log: after a crash or an immediate \
shutdown PostgreSQL empties it, and it is neither replicated to standbys nor included in \
WAL-based backups and point-in-time recovery. In production that is silent data loss on the \
first failover.\n\nThe rule runs only when the environment linted (`--env`) is one of \
`linting.production_environments` (default: `production`, `prod`), and reports every UNLOGGED \
table there (partitions are reported through their parent).\n\nFix: `ALTER TABLE s.t SET \
LOGGED;` (`--fix` writes it into a migration). It rewrites the table and writes it all to the \
WAL under an ACCESS EXCLUSIVE lock: schedule it for a quiet moment on a large table. If the \
data really is disposable (a cache, a staging area), say so with an exemption \
(`linting.rules.unlogged-table-in-production.exempt`).",
    bundle: None,
    check: Check::Schema(check),
};

fn check(s: &SchemaInput, ctx: &Context, out: &mut Vec<Finding>) {
    if !ctx
        .config
        .production_environments
        .iter()
        .any(|e| e == ctx.environment)
    {
        return;
    }
    for t in tables(s) {
        if !t.persistence.eq_ignore_ascii_case("unlogged") {
            continue;
        }
        let key = table_key(t);
        out.push(
            Finding::new(
                &RULE,
                format!(
                    "table {key} is UNLOGGED in environment '{}': its rows are lost on a crash and never reach standbys or WAL backups",
                    ctx.environment
                ),
            )
            .object(&key)
            .at(s.locations.get("table", &key))
            .fix(format!(
                "ALTER TABLE {key} SET LOGGED (rewrites the table under an ACCESS EXCLUSIVE lock), or exempt it if its data is disposable"
            ))
            .fix_sql(format!(
                "ALTER TABLE {} SET LOGGED;",
                quote_qualified(&format!("{}.{}", t.schema, t.name))
            )),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inputs::Locations;
    use crate::rules::security::fixtures::{run_with, schema, table};
    use confiture_core::config::linting::LintingConfig;

    fn model() -> confiture_core::schema::Schema {
        let mut cache = table("app.cache", &[("k", "text")]);
        cache.persistence = "unlogged".into();
        schema(vec![cache, table("app.orders", &[("id", "bigint")])])
    }

    #[test]
    fn fires_in_production() {
        let cfg = LintingConfig::default();
        let found = run_with(&RULE, &model(), &Locations::default(), &cfg, "prod", None);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].object.as_deref(), Some("app.cache"));
        assert_eq!(
            found[0].fix_sql.as_deref(),
            Some("ALTER TABLE \"app\".\"cache\" SET LOGGED;")
        );
        let cfg = LintingConfig {
            production_environments: vec!["live".into()],
            ..LintingConfig::default()
        };
        assert_eq!(
            run_with(&RULE, &model(), &Locations::default(), &cfg, "live", None).len(),
            1
        );
    }

    #[test]
    fn silent_outside_production() {
        let cfg = LintingConfig::default();
        for env in ["local", "staging"] {
            assert!(run_with(&RULE, &model(), &Locations::default(), &cfg, env, None).is_empty());
        }
    }
}
