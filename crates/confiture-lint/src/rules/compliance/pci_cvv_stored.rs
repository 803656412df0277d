//! `pci-cvv-stored`: a column named like a card security code (CVV/CVC).

use confiture_core::anonymize::pii;

use crate::finding::Finding;
use crate::inputs::SchemaInput;
use crate::rule::{Category, Check, Context, Rule};
use crate::rules::util::{table_key, tables};
use crate::Severity;

pub static RULE: Rule = Rule {
    id: "pci-cvv-stored",
    category: Category::Compliance,
    severity: Severity::Error,
    summary: "Card security code (CVV/CVC) column",
    explanation: "PCI DSS v4.0 requirement 3.3.1 (3.3.1.2 for the card verification code): \
sensitive authentication data is never stored after authorization, not even encrypted. A \
column for it is a violation by its existence, whatever it holds today.\n\nThe rule reports \
every column, of any type except boolean, whose name reads as a card security code: `cvv`, \
`cvv2`, `cvc`, `cvc2`, `cvn`, `csc`, `security_code`, `card_verification_value`, \
`card_verification_code`. The result of a verification may be stored: names with `result`, \
`response`, `check`, `match`, `status`, `verified` or `passed` (`cvv_result`) are left \
alone.\n\nFix: pass the code to the payment provider and never persist it; drop the column \
(`ALTER TABLE s.t DROP COLUMN c;`) after purging it from backups, and check that logs and \
queues do not keep it either.",
    bundle: Some("pci-dss"),
    check: Check::Schema(check),
};

const CODE_WORDS: &[&str] = &["cvv", "cvc", "cvn", "csc", "cvv2", "cvc2", "cav2", "cid2"];

const CODE_PAIRS: &[[&str; 2]] = &[
    ["security", "code"],
    ["card", "verification"],
    ["verification", "value"],
];

/// Words that make the column about the outcome of a check, which may be kept.
const OUTCOME: &[&str] = &[
    "result",
    "results",
    "response",
    "check",
    "checked",
    "match",
    "matched",
    "status",
    "verified",
    "valid",
    "validated",
    "passed",
    "outcome",
    "present",
    "provided",
    "required",
];

/// Whether `name` reads as a card security code.
pub fn security_code_name(name: &str) -> bool {
    let w = pii::words(name);
    let code = w.iter().any(|x| CODE_WORDS.contains(&x.as_str()))
        || w.windows(2)
            .any(|p| CODE_PAIRS.iter().any(|[a, b]| p[0] == *a && p[1] == *b));
    code && !w.iter().any(|x| OUTCOME.contains(&x.as_str()))
}

fn check(s: &SchemaInput, _ctx: &Context, out: &mut Vec<Finding>) {
    for t in tables(s) {
        let key = table_key(t);
        for c in &t.columns {
            let boolean = matches!(c.data_type.as_str(), "boolean" | "bool");
            if c.inherited || boolean || !security_code_name(&c.name) {
                continue;
            }
            let object = format!("{key}.{}", c.name);
            out.push(
                Finding::new(
                    &RULE,
                    format!(
                        "column {object} looks like a card security code, which must never be stored"
                    ),
                )
                .object(&object)
                .at(s
                    .locations
                    .get("column", &object)
                    .or_else(|| s.locations.get("table", &key)))
                .fix(format!(
                    "stop writing it, purge it, then ALTER TABLE {key} DROP COLUMN {};",
                    c.name
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
    fn fires_on_security_codes() {
        let m = schema(vec![table(
            "billing.payments",
            &[
                ("cvv", "character(3)"),
                ("cvv2", "text"),
                ("card_security_code", "integer"),
                ("encrypted_cvc", "bytea"),
            ],
        )]);
        assert_eq!(run(&RULE, &m).len(), 4);
    }

    #[test]
    fn silent_on_check_results() {
        let m = schema(vec![table(
            "billing.payments",
            &[
                ("cvv_result", "character(1)"),
                ("cvc_check", "text"),
                ("cvv_present", "boolean"),
                ("security_level", "text"),
            ],
        )]);
        assert!(run(&RULE, &m).is_empty());
    }
}
