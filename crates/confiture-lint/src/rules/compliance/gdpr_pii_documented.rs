//! `gdpr-pii-documented`: columns that look like personal data have a COMMENT.

use crate::finding::Finding;
use crate::inputs::SchemaInput;
use crate::rule::{Category, Check, Context, Rule};
use crate::rules::compliance::gdpr_pii_anonymized::personal;
use crate::rules::util::{table_key, tables};
use crate::Severity;

pub static RULE: Rule = Rule {
    id: "gdpr-pii-documented",
    category: Category::Compliance,
    severity: Severity::Warning,
    summary: "Personal-data column without a COMMENT",
    explanation: "GDPR Art. 30 (records of processing activities) and Art. 5(2) \
(accountability): the controller must be able to say which personal data it holds, why, and \
for how long. The schema is where that inventory stays true: a COMMENT on each personal-data \
column records its purpose and retention next to the data.\n\nThe rule reports every column \
that looks like personal data by name and type (as `gdpr-pii-anonymized` judges it) and has \
no comment, or an empty one.\n\nFix: `COMMENT ON COLUMN s.t.c IS 'Personal data (email): \
account login and notices; kept until account deletion + 30 days';`",
    bundle: Some("gdpr"),
    check: Check::Schema(check),
};

fn check(s: &SchemaInput, _ctx: &Context, out: &mut Vec<Finding>) {
    for t in tables(s) {
        let key = table_key(t);
        for c in &t.columns {
            if c.inherited || c.comment.as_deref().is_some_and(|x| !x.trim().is_empty()) {
                continue;
            }
            let Some(kind) = personal(c) else { continue };
            let object = format!("{key}.{}", c.name);
            out.push(
                Finding::new(
                    &RULE,
                    format!(
                        "column {object} looks like personal data ({kind}) and has no comment recording its purpose and retention"
                    ),
                )
                .object(&object)
                .at(s
                    .locations
                    .get("column", &object)
                    .or_else(|| s.locations.get("table", &key)))
                .fix(format!(
                    "COMMENT ON COLUMN {object} IS 'Personal data ({kind}): <purpose>; kept <retention>';"
                )),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::security::fixtures::{run, schema, table};

    #[test]
    fn fires_on_undocumented_pii() {
        let m = schema(vec![table(
            "app.customers",
            &[
                ("id", "bigint"),
                ("date_of_birth", "date"),
                ("notes", "text"),
            ],
        )]);
        let found = run(&RULE, &m);
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].object.as_deref(),
            Some("app.customers.date_of_birth")
        );
    }

    #[test]
    fn silent_when_documented() {
        let mut t = table("app.customers", &[("id", "bigint"), ("email", "text")]);
        t.columns[1].comment = Some("Personal data: login; kept until deletion".into());
        assert!(run(&RULE, &schema(vec![t])).is_empty());
    }
}
