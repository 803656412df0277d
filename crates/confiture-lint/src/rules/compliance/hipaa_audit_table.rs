//! `hipaa-audit-table`: a schema holding health information has an audit or access log table.

use confiture_core::anonymize::pii;

use crate::finding::Finding;
use crate::inputs::SchemaInput;
use crate::rule::{Category, Check, Context, Rule};
use crate::rules::compliance::hipaa_phi_rls::phi_markers;
use crate::rules::util::{table_key, tables};
use crate::Severity;

pub static RULE: Rule = Rule {
    id: "hipaa-audit-table",
    category: Category::Compliance,
    severity: Severity::Warning,
    summary: "Health information without an audit or access log table",
    explanation: "HIPAA Security Rule, 45 CFR 164.312(b) (audit controls) and \
164.308(a)(1)(ii)(D) (information system activity review): a system holding ePHI records who \
accessed or changed it, and the records are reviewed.\n\nThe rule applies when some table \
looks like it holds health information (as `hipaa-phi-rls` judges it) and reports, once, that \
no audit table exists: no table whose name contains `audit` (`audit_log`, `phi_audit_events`) \
or `access_log` (`access_logs`, `record_access_log`), or any table of a schema whose name \
contains `audit` (`audit.events`). The `pgaudit` extension counts as an \
audit facility too.\n\nFix: create an append-only audit table (who, when, which record, what \
action), write to it from triggers or the data-access layer, and keep it out of reach of \
UPDATE and DELETE (see the `sox` bundle's `sox-audit-append-only`). If the audit trail lives \
elsewhere (a log pipeline), turn the rule off in `linting.rules`.",
    bundle: Some("hipaa"),
    check: Check::Schema(check),
};

/// A table name that reads as an audit or access log.
pub fn audit_log_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let words = pii::words(name);
    lower.contains("audit")
        || lower.contains("access_log")
        || lower.contains("accesslog")
        || words
            .windows(2)
            .any(|p| p[0] == "access" && (p[1] == "log" || p[1] == "logs"))
}

fn check(s: &SchemaInput, _ctx: &Context, out: &mut Vec<Finding>) {
    if s.model.extensions.contains_key("pgaudit")
        || s.model
            .tables
            .values()
            .any(|t| audit_log_name(&t.name) || t.schema.to_ascii_lowercase().contains("audit"))
    {
        return;
    }
    let phi: Vec<String> = tables(s)
        .filter(|t| !phi_markers(t).is_empty())
        .map(table_key)
        .collect();
    if phi.is_empty() {
        return;
    }
    let shown = if phi.len() > 3 {
        format!("{}, … ({} tables)", phi[..3].join(", "), phi.len())
    } else {
        phi.join(", ")
    };
    out.push(
        Finding::new(
            &RULE,
            format!(
                "tables hold health information ({shown}) but no audit or access log table exists"
            ),
        )
        .at(s.locations.get("table", &phi[0]))
        .fix(
            "CREATE TABLE audit_log (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, at timestamptz NOT NULL DEFAULT now(), actor text NOT NULL, action text NOT NULL, table_name text NOT NULL, record_id text); written by triggers, append-only",
        ),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::security::fixtures::{run, schema, table};
    use confiture_core::schema::Extension;

    #[test]
    fn fires_when_phi_has_no_audit_table() {
        let m = schema(vec![
            table("app.patients", &[("id", "bigint"), ("mrn", "text")]),
            table("app.login_history", &[("id", "bigint")]),
        ]);
        let found = run(&RULE, &m);
        assert_eq!(found.len(), 1);
        assert!(found[0].message.contains("app.patients"));
    }

    #[test]
    fn silent_with_an_audit_table_pgaudit_or_no_phi() {
        let phi = table("app.patients", &[("id", "bigint"), ("mrn", "text")]);
        let m = schema(vec![
            phi.clone(),
            table("app.record_access_logs", &[("id", "bigint")]),
        ]);
        assert!(run(&RULE, &m).is_empty());
        let m = schema(vec![
            phi.clone(),
            table("audit.events", &[("id", "bigint")]),
        ]);
        assert!(run(&RULE, &m).is_empty());
        let mut m = schema(vec![phi]);
        m.extensions.insert(
            "pgaudit".into(),
            Extension {
                name: "pgaudit".into(),
                schema: "public".into(),
                version: "16.0".into(),
            },
        );
        assert!(run(&RULE, &m).is_empty());
        assert!(run(
            &RULE,
            &schema(vec![table("app.products", &[("id", "bigint")])])
        )
        .is_empty());
    }
}
