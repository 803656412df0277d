//! `hipaa-phi-rls`: tables holding health information have row-level security enabled.

use confiture_core::anonymize::pii;
use confiture_core::schema::Table;

use crate::finding::Finding;
use crate::inputs::SchemaInput;
use crate::rule::{Category, Check, Context, Rule};
use crate::rules::util::{table_key, tables};
use crate::Severity;

pub static RULE: Rule = Rule {
    id: "hipaa-phi-rls",
    category: Category::Compliance,
    severity: Severity::Error,
    summary: "Table holding health information without row-level security",
    explanation: "HIPAA Security Rule, 45 CFR 164.312(a)(1) (access control) and 164.502(b) \
(minimum necessary): access to electronic protected health information (ePHI) is limited to \
the people and programs that need each record. Row-level security makes the database enforce \
that per row (a clinician sees their patients), whatever query the application sends.\n\n\
The rule treats a table as holding PHI when its name or a column's name has a health word: \
`patient`, `diagnosis`, `icd` (`icd10_code`), `prescription`, `medication`, `medical` \
(`medical_record_number`), `mrn`, `allergy`, `symptom`, `dosage`, `clinical`, `lab_result`, \
`blood_type`, … The ambiguous words `condition`, `treatment`, `therapy`, `procedure` and \
`dose` count only beside a health word in the column or table name (`medical_condition`; \
`treatment` in table `patient_visits`), so A/B-test `treatment` groups are left alone. It \
reports each such table without ROW LEVEL SECURITY enabled (partitions through their \
parent).\n\nFix: write the policies first, then enable: `CREATE POLICY … ON s.t USING (…); \
ALTER TABLE s.t ENABLE ROW LEVEL SECURITY;` (and `FORCE ROW LEVEL SECURITY` if the \
application connects as the table's owner). Enabling it without policies hides every row from \
other roles, so no automatic fix is offered.",
    bundle: Some("hipaa"),
    check: Check::Schema(check),
};

/// Words that mark health information by themselves.
const HEALTH: &[&str] = &[
    "patient",
    "patients",
    "diagnosis",
    "diagnoses",
    "diagnostic",
    "diagnostics",
    "icd",
    "prescription",
    "prescriptions",
    "prescribed",
    "medication",
    "medications",
    "medical",
    "mrn",
    "allergy",
    "allergies",
    "symptom",
    "symptoms",
    "dosage",
    "clinical",
    "phi",
    "ehr",
    "emr",
    "immunization",
    "immunizations",
    "vaccination",
    "vaccinations",
    "pathology",
    "radiology",
    "hiv",
    "comorbidity",
    "comorbidities",
];

/// Word pairs that mark health information.
const HEALTH_PAIRS: &[[&str; 2]] = &[
    ["lab", "result"],
    ["lab", "results"],
    ["blood", "type"],
    ["health", "record"],
    ["health", "condition"],
];

/// Words that mark health information only beside a health word.
const AMBIGUOUS: &[&str] = &[
    "condition",
    "conditions",
    "treatment",
    "treatments",
    "therapy",
    "procedure",
    "procedures",
    "dose",
    "doses",
];

/// Words that make an ambiguous word a health one.
const CONTEXT: &[&str] = &["health", "healthcare", "hospital", "clinic", "chronic"];

fn strong(words: &[String]) -> bool {
    words.iter().any(|w| HEALTH.contains(&w.as_str()))
        || words
            .windows(2)
            .any(|p| HEALTH_PAIRS.iter().any(|[a, b]| p[0] == *a && p[1] == *b))
}

fn context(words: &[String]) -> bool {
    strong(words) || words.iter().any(|w| CONTEXT.contains(&w.as_str()))
}

/// The names (the table's, then its columns') that make `t` look like it holds PHI.
pub fn phi_markers(t: &Table) -> Vec<String> {
    let table_words = pii::words(&t.name);
    let table_context = context(&table_words);
    let mut out = Vec::new();
    if strong(&table_words) {
        out.push(t.name.clone());
    }
    for c in &t.columns {
        let w = pii::words(&c.name);
        let ambiguous = w.iter().any(|x| AMBIGUOUS.contains(&x.as_str()));
        if strong(&w) || (ambiguous && (table_context || context(&w))) {
            out.push(c.name.clone());
        }
    }
    out
}

fn check(s: &SchemaInput, _ctx: &Context, out: &mut Vec<Finding>) {
    for t in tables(s) {
        if t.rls_enabled {
            continue;
        }
        let markers = phi_markers(t);
        if markers.is_empty() {
            continue;
        }
        let key = table_key(t);
        out.push(
            Finding::new(
                &RULE,
                format!(
                    "table {key} looks like it holds health information ({}) but row-level security is not enabled",
                    markers.join(", ")
                ),
            )
            .object(&key)
            .at(s.locations.get("table", &key))
            .fix(format!(
                "CREATE POLICY … ON {key} USING (…); then ALTER TABLE {key} ENABLE ROW LEVEL SECURITY;"
            )),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::security::fixtures::{run, schema, table};

    #[test]
    fn fires_on_phi_tables_without_rls() {
        let m = schema(vec![
            table(
                "app.encounters",
                &[("id", "bigint"), ("icd10_code", "text")],
            ),
            table(
                "app.patient_visits",
                &[("id", "bigint"), ("treatment", "text")],
            ),
            table(
                "app.notes",
                &[("id", "bigint"), ("chronic_condition", "text")],
            ),
        ]);
        let found = run(&RULE, &m);
        let objects: Vec<_> = found.iter().filter_map(|f| f.object.as_deref()).collect();
        assert_eq!(
            objects,
            ["app.encounters", "app.notes", "app.patient_visits"]
        );
        assert!(found[0].message.contains("icd10_code"));
    }

    #[test]
    fn silent_with_rls_or_without_phi() {
        let mut p = table("app.patients", &[("id", "bigint"), ("diagnosis", "text")]);
        p.rls_enabled = true;
        let m = schema(vec![
            p,
            // An A/B test's treatment group and a rule's condition are not health data.
            table(
                "app.experiments",
                &[("treatment", "text"), ("condition", "text")],
            ),
        ]);
        assert!(run(&RULE, &m).is_empty());
    }
}
