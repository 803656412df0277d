//! `sox-audit-immutable-trigger`: audit tables have an enabled BEFORE UPDATE and DELETE
//! trigger (the guard that holds against the table's owner too).

use crate::finding::Finding;
use crate::inputs::SchemaInput;
use crate::rule::{Category, Check, Context, Rule};
use crate::rules::compliance::sox_audit_append_only::audit_table_name;
use crate::rules::util::{table_key, tables};
use crate::Severity;

pub static RULE: Rule = Rule {
    id: "sox-audit-immutable-trigger",
    category: Category::Compliance,
    severity: Severity::Warning,
    summary: "Audit table without a trigger rejecting UPDATE and DELETE",
    explanation: "Sarbanes-Oxley sections 404 and 802: audit records must not be altered. \
Revoking privileges (`sox-audit-append-only`) does not bind the table's owner, nor a \
superuser, nor an application that connects as the owner: a BEFORE UPDATE OR DELETE trigger \
that raises an error does, and turning it off leaves a trace (ALTER TABLE … DISABLE TRIGGER \
is itself DDL).\n\nFor each audit table (name containing `audit`, or the word \
`log`/`logs`/`changelog`/`history`/`journal`, as in `sox-audit-append-only`) the rule looks \
for enabled triggers firing BEFORE UPDATE (on every column, not `UPDATE OF …`) and BEFORE \
DELETE, in one trigger or two; a disabled trigger does not count. It cannot see what the \
trigger function does: name it for what it does.\n\nFix:\n\n    CREATE FUNCTION \
audit.reject_change() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION \
'audit records are immutable'; END $$;\n    CREATE TRIGGER immutable BEFORE UPDATE OR DELETE \
ON s.t FOR EACH ROW EXECUTE FUNCTION audit.reject_change();\n\n(add `CREATE TRIGGER … BEFORE \
TRUNCATE … FOR EACH STATEMENT` for TRUNCATE).",
    bundle: Some("sox"),
    check: Check::Schema(check),
};

/// The events (`UPDATE`, `DELETE`, …) a trigger definition fires BEFORE; `UPDATE OF cols`
/// is not a whole-row `UPDATE`.
fn before_events(definition: &str) -> Vec<String> {
    let upper = definition.to_ascii_uppercase();
    let Some(at) = upper.find(" BEFORE ") else {
        return Vec::new();
    };
    let rest = &upper[at + " BEFORE ".len()..];
    let events = rest.split(" ON ").next().unwrap_or("");
    events
        .split(" OR ")
        .map(|e| e.trim())
        .filter(|e| !e.starts_with("UPDATE OF"))
        .map(str::to_string)
        .collect()
}

fn check(s: &SchemaInput, _ctx: &Context, out: &mut Vec<Finding>) {
    for t in tables(s) {
        if !audit_table_name(&t.name) {
            continue;
        }
        let events: Vec<String> = t
            .triggers
            .values()
            .filter(|tr| tr.enabled != "D")
            .flat_map(|tr| before_events(&tr.definition))
            .collect();
        let missing: Vec<&str> = ["UPDATE", "DELETE"]
            .into_iter()
            .filter(|e| !events.iter().any(|x| x == e))
            .collect();
        if missing.is_empty() {
            continue;
        }
        let key = table_key(t);
        out.push(
            Finding::new(
                &RULE,
                format!(
                    "audit table {key} has no enabled trigger rejecting {}: its owner can rewrite the trail",
                    missing.join(" and ")
                ),
            )
            .object(&key)
            .at(s.locations.get("table", &key))
            .fix(format!(
                "CREATE TRIGGER immutable BEFORE UPDATE OR DELETE ON {key} FOR EACH ROW EXECUTE FUNCTION <function raising an exception>();"
            )),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::security::fixtures::{run, schema, table};
    use confiture_core::schema::Trigger;

    fn trigger(name: &str, definition: &str, enabled: &str) -> (String, Trigger) {
        (
            name.into(),
            Trigger {
                name: name.into(),
                definition: definition.into(),
                enabled: enabled.into(),
                comment: None,
                inherited: false,
            },
        )
    }

    #[test]
    fn fires_without_a_full_guard() {
        let mut a = table("fin.audit_events", &[("id", "bigint")]);
        a.triggers = [trigger(
            "no_update",
            "CREATE TRIGGER no_update BEFORE UPDATE OF amount ON fin.audit_events FOR EACH ROW EXECUTE FUNCTION fin.reject()",
            "O",
        )]
        .into();
        let mut b = table("fin.ledger_journal", &[("id", "bigint")]);
        b.triggers = [trigger(
            "immutable",
            "CREATE TRIGGER immutable BEFORE UPDATE OR DELETE ON fin.ledger_journal FOR EACH ROW EXECUTE FUNCTION fin.reject()",
            "D",
        )]
        .into();
        let found = run(&RULE, &schema(vec![a, b]));
        assert_eq!(found.len(), 2);
        assert!(found[0].message.contains("rejecting UPDATE and DELETE"));
    }

    #[test]
    fn silent_when_guarded_or_not_audit() {
        let mut a = table("fin.audit_events", &[("id", "bigint")]);
        a.triggers = [
            trigger(
                "no_update",
                "CREATE TRIGGER no_update BEFORE UPDATE ON fin.audit_events FOR EACH ROW EXECUTE FUNCTION fin.reject()",
                "O",
            ),
            trigger(
                "no_delete",
                "CREATE TRIGGER no_delete BEFORE DELETE OR TRUNCATE ON fin.audit_events FOR EACH STATEMENT EXECUTE FUNCTION fin.reject()",
                "A",
            ),
        ]
        .into();
        let b = table("fin.invoices", &[("id", "bigint")]);
        assert!(run(&RULE, &schema(vec![a, b])).is_empty());
    }
}
