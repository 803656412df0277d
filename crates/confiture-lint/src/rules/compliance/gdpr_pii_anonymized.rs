//! `gdpr-pii-anonymized`: columns that look like personal data are covered by the
//! anonymization profile.

use confiture_core::anonymize::pii::{self, PiiKind};
use confiture_core::schema::Column;

use crate::finding::Finding;
use crate::inputs::SchemaInput;
use crate::rule::{Category, Check, Context, Rule};
use crate::rules::util::{table_key, tables};
use crate::Severity;

pub static RULE: Rule = Rule {
    id: "gdpr-pii-anonymized",
    category: Category::Compliance,
    severity: Severity::Error,
    summary: "Personal-data column not covered by the anonymization profile",
    explanation: "GDPR Art. 5(1)(c) (data minimisation), Art. 25 (data protection by design) \
and Art. 32 (pseudonymisation as a security measure): personal data copied out of production \
(to staging, to developers' machines) must be anonymized or pseudonymised first. A column the \
anonymization profile forgets travels in the clear.\n\nThe rule finds columns that look like \
personal data by name and type, as `confiture sync` does in strict mode (emails, phones, \
person names, postal addresses, national identifiers, birth dates, IP addresses, card numbers, \
passwords; credentials such as API keys are left to `plaintext-password-column`), and reports \
each one the profile given to the linter does not cover (a rule for `schema.table.column`, or \
`schema.table.*`). With no profile given, every such column is reported.\n\nFix: add a rule for \
the column to the profile (`email_mask`, `phone`, `full_name`, `address`, `date_jitter`, `ip`, \
`credit_card`, `redact`, …; see docs/anonymization.md), or `skip_table` the table; a column \
that is not personal data despite its name: exempt it \
(`linting.rules.gdpr-pii-anonymized.exempt`).",
    bundle: Some("gdpr"),
    check: Check::Schema(check),
};

/// The kind of personal data a column holds, judged by name and type (credentials excluded:
/// they are secrets, not personal data).
pub fn personal(c: &Column) -> Option<PiiKind> {
    pii::by_column(&c.name, &c.data_type).filter(|k| *k != PiiKind::Secret)
}

/// A strategy to suggest for a kind.
fn strategy(kind: PiiKind) -> &'static str {
    match kind {
        PiiKind::Email => "email_mask",
        PiiKind::Phone => "phone",
        PiiKind::Name => "full_name",
        PiiKind::Address => "address",
        PiiKind::BirthDate => "date_jitter",
        PiiKind::Ip => "ip",
        PiiKind::CardNumber => "credit_card",
        PiiKind::Ssn | PiiKind::Password | PiiKind::Secret => "redact",
    }
}

fn check(s: &SchemaInput, ctx: &Context, out: &mut Vec<Finding>) {
    for t in tables(s) {
        let key = table_key(t);
        for c in &t.columns {
            let Some(kind) = personal(c) else { continue };
            let object = format!("{key}.{}", c.name);
            let message = match ctx.anonymized {
                Some(set) if set.contains(&object) || set.contains(&format!("{key}.*")) => {
                    continue
                }
                Some(_) => format!(
                    "column {object} looks like personal data ({kind}) and the anonymization profile does not cover it"
                ),
                None => format!(
                    "column {object} looks like personal data ({kind}); no anonymization profile covers it (none was given)"
                ),
            };
            out.push(
                Finding::new(&RULE, message)
                    .object(&object)
                    .at(s
                        .locations
                        .get("column", &object)
                        .or_else(|| s.locations.get("table", &key)))
                    .fix(format!(
                        "add a rule for {key} / {} to the anonymization profile (e.g. strategy {})",
                        c.name,
                        strategy(kind)
                    )),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inputs::Locations;
    use crate::rules::security::fixtures::{run, run_with, schema, table};
    use confiture_core::config::linting::LintingConfig;
    use std::collections::BTreeSet;

    fn model() -> confiture_core::schema::Schema {
        schema(vec![table(
            "app.customers",
            &[
                ("id", "bigint"),
                ("email", "text"),
                ("phone_number", "text"),
                ("api_key", "text"),
                ("email_verified", "boolean"),
            ],
        )])
    }

    #[test]
    fn without_a_profile_every_pii_column_is_reported() {
        let found = run(&RULE, &model());
        let objects: Vec<_> = found.iter().filter_map(|f| f.object.as_deref()).collect();
        assert_eq!(
            objects,
            ["app.customers.email", "app.customers.phone_number"]
        );
        assert!(found[0].message.contains("none was given"));
    }

    #[test]
    fn uncovered_columns_of_a_profile_are_reported() {
        let covered: BTreeSet<String> = ["app.customers.email".to_string()].into();
        let cfg = LintingConfig::default();
        let found = run_with(
            &RULE,
            &model(),
            &Locations::default(),
            &cfg,
            "local",
            Some(&covered),
        );
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].object.as_deref(),
            Some("app.customers.phone_number")
        );
    }

    #[test]
    fn silent_when_covered() {
        let cfg = LintingConfig::default();
        let covered: BTreeSet<String> = [
            "app.customers.email".to_string(),
            "app.customers.phone_number".to_string(),
        ]
        .into();
        let l = Locations::default();
        assert!(run_with(&RULE, &model(), &l, &cfg, "local", Some(&covered)).is_empty());
        let whole: BTreeSet<String> = ["app.customers.*".to_string()].into();
        assert!(run_with(&RULE, &model(), &l, &cfg, "local", Some(&whole)).is_empty());
    }
}
