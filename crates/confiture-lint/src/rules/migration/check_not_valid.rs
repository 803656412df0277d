//! `check-not-valid`: a CHECK constraint added to an existing table without `NOT VALID` (or
//! validated in the same transaction) scans it under an ACCESS EXCLUSIVE lock.

use pg_query::protobuf::{AlterTableType, ConstrType};

use crate::finding::Finding;
use crate::inputs::MigrationInput;
use crate::rule::{Category, Check, Context, Rule};
use crate::Severity;

use super::common::{self, derived_name, ident, relation_sql};

pub static RULE: Rule = Rule {
    id: "check-not-valid",
    category: Category::Migration,
    severity: Severity::Warning,
    summary: "CHECK constraint added to an existing table without NOT VALID scans it under an ACCESS EXCLUSIVE lock",
    explanation: "`ALTER TABLE … ADD CONSTRAINT … CHECK (…)` checks every existing row while \
holding an ACCESS EXCLUSIVE lock: every read and write of the table waits for the whole scan.\n\n\
Add it `NOT VALID` instead: new and updated rows are checked at once and the lock lasts a \
moment. Then run `ALTER TABLE … VALIDATE CONSTRAINT …` in a later migration: it scans under a \
SHARE UPDATE EXCLUSIVE lock, which lets reads and writes through. Validating in the same \
transaction as the `NOT VALID` add gains nothing (the add's ACCESS EXCLUSIVE lock is held until \
commit) and is reported too. A table created in the same migration is empty and is not \
reported. With `--live` (a database), the severity follows the table's size.",
    bundle: None,
    check: Check::Migration(check),
};

fn check(m: &MigrationInput, ctx: &Context, out: &mut Vec<Finding>) {
    let created = common::Created::new(m);
    for (i, st) in m.statements.iter().enumerate() {
        let Some((alter, rel)) = common::alter_table(st) else {
            continue;
        };
        for cmd in common::commands(alter) {
            if !common::is(cmd, AlterTableType::AtAddConstraint) {
                continue;
            }
            let Some(c) = common::constraint(cmd) else {
                continue;
            };
            if common::contype(c) != ConstrType::ConstrCheck {
                continue;
            }
            // NOT ENFORCED (PostgreSQL 18): nothing is checked.
            if !c.is_enforced {
                continue;
            }
            if c.skip_validation {
                if let Some(later) = common::validated_in_same_transaction(m, i, rel, &c.conname) {
                    let table = common::table_key(rel);
                    let (severity, size) = common::sized(&RULE, ctx, &table);
                    out.push(
                        common::finding(
                            &RULE,
                            m,
                            later,
                            &table,
                            format!(
                                "VALIDATE CONSTRAINT {} on {table}{size} runs in the same transaction as its ADD … NOT VALID: the ACCESS EXCLUSIVE lock is held until commit, so the scan blocks every read and write",
                                c.conname
                            ),
                        )
                        .severity(severity)
                        .fix(format!(
                            "move it to a later migration:\nALTER TABLE {} VALIDATE CONSTRAINT {};",
                            relation_sql(rel),
                            ident(&c.conname)
                        )),
                    );
                }
                continue;
            }
            if created.before(i, rel) {
                break;
            }
            let table = common::table_key(rel);
            let name = if c.conname.is_empty() {
                derived_name(&rel.relname, &[], "check")
            } else {
                c.conname.clone()
            };
            let add = common::add_not_valid(rel, c, &name, "… CHECK (…)");
            let (severity, size) = common::sized(&RULE, ctx, &table);
            let shown = if c.conname.is_empty() {
                String::new()
            } else {
                format!(" {}", c.conname)
            };
            out.push(
                common::finding(
                    &RULE,
                    m,
                    st,
                    &table,
                    format!(
                        "ADD CONSTRAINT{shown} CHECK on {table}{size} scans every row under an ACCESS EXCLUSIVE lock"
                    ),
                )
                .severity(severity)
                .fix(format!(
                    "add it NOT VALID (checked for new rows at once), validate it in a later migration:\n{add}\n\
-- in a later migration (SHARE UPDATE EXCLUSIVE: reads and writes go on):\n\
ALTER TABLE {} VALIDATE CONSTRAINT {};",
                    relation_sql(rel),
                    ident(&name)
                )),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::migration::testing::{run, run_with, stats};

    #[test]
    fn validating_checks_are_reported() {
        let f = run(
            &RULE,
            "SET lock_timeout = '2s';\nALTER TABLE accounts ADD CONSTRAINT positive_balance CHECK (balance >= 0);",
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].rule, "check-not-valid");
        assert_eq!(f[0].severity, Severity::Warning);
        assert_eq!(f[0].object.as_deref(), Some("public.accounts"));
        assert_eq!(f[0].line, Some(2));
        let fix = f[0].fix.as_deref().unwrap();
        assert!(
            fix.contains("ALTER TABLE accounts ADD CONSTRAINT positive_balance CHECK (balance >= 0) NOT VALID;"),
            "{fix}"
        );
        assert!(fix.contains("ALTER TABLE accounts VALIDATE CONSTRAINT positive_balance;"));
    }

    #[test]
    fn validating_in_the_same_transaction_is_reported() {
        let sql = "ALTER TABLE a ADD CONSTRAINT c CHECK (x > 0) NOT VALID;\nALTER TABLE a VALIDATE CONSTRAINT c;";
        let f = run(&RULE, sql);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].line, Some(2));
        assert!(run_with(&RULE, sql, false, None).is_empty());
    }

    #[test]
    fn not_valid_and_new_tables_are_fine() {
        for sql in [
            "ALTER TABLE a ADD CONSTRAINT c CHECK (x > 0) NOT VALID",
            "ALTER TABLE a ADD CONSTRAINT c CHECK (x > 0) NOT ENFORCED",
            "CREATE TABLE a (x int);\nALTER TABLE a ADD CONSTRAINT c CHECK (x > 0);",
            "ALTER TABLE a ADD CONSTRAINT u UNIQUE USING INDEX a_x",
        ] {
            assert!(run(&RULE, sql).is_empty(), "{sql}");
        }
    }

    #[test]
    fn severity_follows_the_table_size() {
        let sql = "ALTER TABLE a ADD CHECK (x > 0)";
        let small = run_with(&RULE, sql, true, Some(&stats("public.a", 300)));
        assert_eq!(small[0].severity, Severity::Info);
        let large = run_with(&RULE, sql, true, Some(&stats("public.a", 3_000_000)));
        assert_eq!(large[0].severity, Severity::Error);
        assert!(large[0].fix.as_deref().unwrap().contains("a_check"));
    }
}
