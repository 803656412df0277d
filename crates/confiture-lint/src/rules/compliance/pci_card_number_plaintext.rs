//! `pci-card-number-plaintext`: a column named like a card number (PAN) of a text or numeric
//! type.

use confiture_core::anonymize::pii;

use crate::finding::Finding;
use crate::inputs::SchemaInput;
use crate::rule::{Category, Check, Context, Rule};
use crate::rules::util::{is_numeric_type, is_text_type, table_key, tables};
use crate::Severity;

pub static RULE: Rule = Rule {
    id: "pci-card-number-plaintext",
    category: Category::Compliance,
    severity: Severity::Error,
    summary: "Card number (PAN) stored in a readable column",
    explanation: "PCI DSS v4.0 requirement 3.5.1: the primary account number (PAN) is \
unreadable wherever it is stored (a token, a keyed hash, truncation or strong encryption). A \
readable PAN puts the whole database, its backups and replicas in the cardholder-data \
environment, and makes a leak a card-fraud incident.\n\nThe rule reports columns of text or \
numeric types whose name reads as a card number: `card_number`, `cardnumber`, `card_no`, \
`credit_card`, `debit_card`, `cc_number`, `ccnum`, `pan`, `primary_account_number`, … It \
stays silent when the name says the value is not the readable number: `token`, `hash`, \
`digest`, `encrypted`, `last4` (`last_4`), `first6`, `bin`, `masked`, `fingerprint`, or a \
descriptive word (`credit_card_id`, `card_number_type`, `credit_card_expiry`). `bytea` \
columns (encrypted values) are not reported.\n\nFix: let the payment provider keep the card: \
store its token (`card_token`) and, for display, the last four digits (`card_last4`). If the \
number must be kept, encrypt it (pgcrypto `pgp_sym_encrypt`, keys outside the database) in a \
`bytea` column named for it.",
    bundle: Some("pci-dss"),
    check: Check::Schema(check),
};

const CARD: &[&[&str]] = &[
    &["card", "number"],
    &["card", "num"],
    &["card", "no"],
    &["cardnumber"],
    &["cardnum"],
    &["credit", "card"],
    &["creditcard"],
    &["debit", "card"],
    &["debitcard"],
    &["cc", "number"],
    &["cc", "num"],
    &["cc", "no"],
    &["ccnumber"],
    &["ccnum"],
    &["pan"],
    &["primary", "account", "number"],
];

/// Fragments that say the value is protected (`tokenized_pan`, `card_number_hash`).
const PROTECTED_PARTS: &[&str] = &["token", "hash", "digest", "crypt", "mask", "cipher"];

/// Words that say the column is not the readable number.
const NOT_PAN: &[&str] = &[
    "last4",
    "last",
    "first6",
    "first",
    "bin",
    "fingerprint",
    "ref",
    "reference",
    "id",
    "ids",
    "uuid",
    "type",
    "brand",
    "network",
    "kind",
    "exp",
    "expiry",
    "expires",
    "expiration",
    "holder",
    "name",
    "country",
    "status",
    "count",
    "provider",
    "fee",
    "fees",
    "limit",
    "enc",
    "issuer",
    "present",
    "verified",
    "payment",
    "method",
    "methods",
];

/// Whether `name` reads as a readable card number.
pub fn card_number_name(name: &str) -> bool {
    let w = pii::words(name);
    let matched = CARD.iter().any(|seq| {
        w.windows(seq.len())
            .any(|win| win.iter().zip(*seq).all(|(a, b)| a == b))
    });
    matched
        && !w
            .iter()
            .any(|x| NOT_PAN.contains(&x.as_str()) || PROTECTED_PARTS.iter().any(|p| x.contains(p)))
}

fn check(s: &SchemaInput, _ctx: &Context, out: &mut Vec<Finding>) {
    for t in tables(s) {
        let key = table_key(t);
        for c in &t.columns {
            if c.inherited
                || !(is_text_type(&c.data_type) || is_numeric_type(&c.data_type))
                || !card_number_name(&c.name)
            {
                continue;
            }
            let object = format!("{key}.{}", c.name);
            out.push(
                Finding::new(
                    &RULE,
                    format!(
                        "column {object} ({}) looks like a card number stored readable",
                        c.data_type
                    ),
                )
                .object(&object)
                .at(s
                    .locations
                    .get("column", &object)
                    .or_else(|| s.locations.get("table", &key)))
                .fix(
                    "store the payment provider's token and the last four digits instead (card_token, card_last4), or an encrypted bytea",
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::security::fixtures::{run, schema, table};

    #[test]
    fn fires_on_readable_card_numbers() {
        let m = schema(vec![table(
            "billing.cards",
            &[
                ("card_number", "character varying(19)"),
                ("pan", "numeric(19,0)"),
                ("creditCard", "text"),
            ],
        )]);
        let found = run(&RULE, &m);
        let objects: Vec<_> = found.iter().filter_map(|f| f.object.as_deref()).collect();
        assert_eq!(
            objects,
            [
                "billing.cards.card_number",
                "billing.cards.pan",
                "billing.cards.creditCard"
            ]
        );
    }

    #[test]
    fn silent_on_tokens_truncations_and_references() {
        let m = schema(vec![table(
            "billing.cards",
            &[
                ("card_token", "text"),
                ("card_number_last4", "character(4)"),
                ("card_last_4", "text"),
                ("credit_card_id", "bigint"),
                ("card_number_hash", "text"),
                ("masked_pan", "text"),
                ("credit_card_expiry", "text"),
                ("card_number", "bytea"),
                ("company", "text"),
            ],
        )]);
        assert!(run(&RULE, &m).is_empty());
    }
}
