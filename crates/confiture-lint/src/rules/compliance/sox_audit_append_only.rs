//! `sox-audit-append-only`: audit tables grant no UPDATE, DELETE or TRUNCATE to roles other
//! than their owner.

use confiture_core::anonymize::pii;
use confiture_core::ident::{quote_ident, quote_qualified};

use crate::finding::Finding;
use crate::inputs::SchemaInput;
use crate::rule::{Category, Check, Context, Rule};
use crate::rules::util::{table_key, tables};
use crate::Severity;

pub static RULE: Rule = Rule {
    id: "sox-audit-append-only",
    category: Category::Compliance,
    severity: Severity::Error,
    summary: "Audit table that other roles may UPDATE, DELETE or TRUNCATE",
    explanation: "Sarbanes-Oxley section 404 (internal control over financial reporting) and \
section 802 (altering or destroying records): an audit trail is evidence only if nobody can \
rewrite it. Append-only means roles may INSERT and SELECT, never UPDATE, DELETE or \
TRUNCATE.\n\nThe rule treats as audit tables those whose name contains `audit`, or has the \
word `log`/`logs`, `changelog`, `history`/`histories` or `journal`/`journals` \
(`payment_log`, `order_status_history`, `gl_journal`). It reports each one on which a role \
other than the owner (PUBLIC included) holds UPDATE, DELETE or TRUNCATE, as read from the \
grants.\n\nFix: `REVOKE UPDATE, DELETE, TRUNCATE ON TABLE s.t FROM role;` (`--fix` writes it \
into a migration). The owner keeps every privilege: have the application connect as another \
role, and see `sox-audit-immutable-trigger` for a guard that holds against the owner too. \
Retention (dropping old partitions) is a job for the owner, documented.",
    bundle: Some("sox"),
    check: Check::Schema(check),
};

const LOG_WORDS: &[&str] = &[
    "log",
    "logs",
    "changelog",
    "changelogs",
    "history",
    "histories",
    "journal",
    "journals",
];

/// Whether a table name reads as an audit trail.
pub fn audit_table_name(name: &str) -> bool {
    name.to_ascii_lowercase().contains("audit")
        || pii::words(name)
            .iter()
            .any(|w| LOG_WORDS.contains(&w.as_str()))
}

const CHANGES: [&str; 3] = ["UPDATE", "DELETE", "TRUNCATE"];

fn check(s: &SchemaInput, _ctx: &Context, out: &mut Vec<Finding>) {
    for t in tables(s) {
        if !audit_table_name(&t.name) {
            continue;
        }
        let offenders: Vec<(&str, Vec<&str>)> = t
            .grants
            .iter()
            .filter(|g| g.grantee != t.owner)
            .map(|g| {
                let p: Vec<&str> = g
                    .privileges
                    .iter()
                    .map(String::as_str)
                    .filter(|p| CHANGES.contains(p))
                    .collect();
                (g.grantee.as_str(), p)
            })
            .filter(|(_, p)| !p.is_empty())
            .collect();
        if offenders.is_empty() {
            continue;
        }
        let key = table_key(t);
        let described: Vec<String> = offenders
            .iter()
            .map(|(g, p)| format!("{} to {g}", p.join(", ")))
            .collect();
        let roles: Vec<String> = offenders
            .iter()
            .map(|(g, _)| {
                if g.eq_ignore_ascii_case("PUBLIC") {
                    "PUBLIC".to_string()
                } else {
                    quote_ident(g)
                }
            })
            .collect();
        out.push(
            Finding::new(
                &RULE,
                format!(
                    "audit table {key} is not append-only: grants {}",
                    described.join("; ")
                ),
            )
            .object(&key)
            .at(s.locations.get("table", &key))
            .fix(format!(
                "revoke UPDATE, DELETE and TRUNCATE on {key} from every role but its owner"
            ))
            .fix_sql(format!(
                "REVOKE UPDATE, DELETE, TRUNCATE ON TABLE {} FROM {};",
                quote_qualified(&key),
                roles.join(", ")
            )),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::security::fixtures::{grant, run, schema, table};

    #[test]
    fn fires_when_others_may_rewrite_the_trail() {
        let mut t = table("fin.payment_audit", &[("id", "bigint")]);
        t.grants = vec![
            grant("PUBLIC", &["SELECT"]),
            grant("app_rw", &["DELETE", "INSERT", "SELECT", "UPDATE"]),
            grant("ops", &["TRUNCATE"]),
        ];
        let found = run(&RULE, &schema(vec![t]));
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].fix_sql.as_deref(),
            Some("REVOKE UPDATE, DELETE, TRUNCATE ON TABLE \"fin\".\"payment_audit\" FROM \"app_rw\", \"ops\";")
        );
        assert!(found[0].message.contains("DELETE, UPDATE to app_rw"));
    }

    #[test]
    fn silent_when_append_only_or_not_an_audit_table() {
        let mut a = table("fin.order_status_history", &[("id", "bigint")]);
        a.grants = vec![grant("app_rw", &["INSERT", "SELECT"])];
        let mut b = table("fin.orders", &[("id", "bigint")]);
        b.grants = vec![grant("app_rw", &["DELETE", "UPDATE"])];
        let mut c = table("fin.user_logins", &[("id", "bigint")]);
        c.grants = vec![grant("app_rw", &["DELETE"])];
        assert!(run(&RULE, &schema(vec![a, b, c])).is_empty());
    }
}
