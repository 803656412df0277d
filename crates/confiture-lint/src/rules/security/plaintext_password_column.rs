//! `plaintext-password-column`: a text column named like a password or a secret.

use confiture_core::anonymize::pii::{self, PiiKind};

use crate::finding::Finding;
use crate::inputs::SchemaInput;
use crate::rule::{Category, Check, Context, Rule};
use crate::rules::util::{is_text_type, table_key, tables};
use crate::Severity;

pub static RULE: Rule = Rule {
    id: "plaintext-password-column",
    category: Category::Security,
    severity: Severity::Warning,
    summary: "Text column named like a password or secret, not like a hash",
    explanation: "A password or credential kept as readable text is exposed by every backup, \
replica, log of a failing statement and `SELECT *`; one leak hands over every account (and \
the other sites where users reused the password).\n\nThe rule reports columns of text types \
(`text`, `varchar`, `char`, `citext`) whose name reads as a password or secret: `password`, \
`passwd`, `pwd`, `passphrase`, `secret`, `client_secret`, `api_key`, `private_key`, \
`access_token`, `refresh_token`, … It stays silent when the name says the value is protected \
or is not the secret itself: a word such as `hash`, `hashed`, `digest`, `encrypted`, `bcrypt`, \
`argon2`, `salt`, `hint`, `prefix`, `last4`, `masked`, `fingerprint`, `ref` or `arn`, a payment token (`card_token`, `payment_token`: \
the vault's stand-in for a card number), or a \
descriptive word (`password_changed_at`, `api_key_id`).\n\nFix: store a slow salted hash of a \
password (argon2id, bcrypt, scrypt: `crypt(pw, gen_salt('bf'))` with pgcrypto) in a column \
named for it (`password_hash`), and credentials the application must read back encrypted \
(or in a secret manager, keeping a reference). If the column already holds hashes, rename it \
to say so.",
    bundle: None,
    check: Check::Schema(check),
};

/// Word fragments that say the value is transformed (`passwordhash`, `encrypted_secret`).
const PROTECTED_PARTS: &[&str] = &["hash", "crypt", "digest", "cipher"];

/// Whole words that say the value is protected or is not the secret itself.
const PROTECTED_WORDS: &[&str] = &[
    "enc",
    "argon",
    "argon2",
    "pbkdf",
    "pbkdf2",
    "sha",
    "sha1",
    "sha256",
    "sha512",
    "md5",
    "hmac",
    "salt",
    "hint",
    "hints",
    "policy",
    "prefix",
    "suffix",
    "last4",
    "masked",
    "mask",
    "fingerprint",
    "ref",
    "arn",
    "path",
    "url",
    "name",
    "algorithm",
    "algo",
    "strength",
    // A payment token (`card_token`) stands in for a card number held by a vault: it is
    // the protection, not a credential.
    "card",
    "payment",
    "vault",
];

/// Whether `name` reads as a password or secret held in the clear.
pub fn secret_name(name: &str) -> bool {
    if !matches!(
        pii::by_name(name),
        Some(PiiKind::Password | PiiKind::Secret)
    ) {
        return false;
    }
    !pii::words(name).iter().any(|w| {
        PROTECTED_WORDS.contains(&w.as_str()) || PROTECTED_PARTS.iter().any(|p| w.contains(p))
    })
}

fn check(s: &SchemaInput, _ctx: &Context, out: &mut Vec<Finding>) {
    for t in tables(s) {
        let key = table_key(t);
        for c in &t.columns {
            if c.inherited || !is_text_type(&c.data_type) || !secret_name(&c.name) {
                continue;
            }
            let object = format!("{key}.{}", c.name);
            out.push(
                Finding::new(
                    &RULE,
                    format!(
                        "column {object} ({}) looks like a password or secret stored as plain text",
                        c.data_type
                    ),
                )
                .object(&object)
                .at(s
                    .locations
                    .get("column", &object)
                    .or_else(|| s.locations.get("table", &key)))
                .fix(format!(
                    "store a salted hash (argon2id, bcrypt) or an encrypted value instead, in a column named for it (e.g. {}_hash)",
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
    fn fires_on_plain_text_secrets() {
        let m = schema(vec![table(
            "app.users",
            &[
                ("id", "bigint"),
                ("password", "text"),
                ("api_key", "character varying(64)"),
                ("refreshToken", "text"),
                ("client_secret", "citext"),
            ],
        )]);
        let found = run(&RULE, &m);
        let objects: Vec<_> = found.iter().filter_map(|f| f.object.as_deref()).collect();
        assert_eq!(
            objects,
            [
                "app.users.password",
                "app.users.api_key",
                "app.users.refreshToken",
                "app.users.client_secret"
            ]
        );
    }

    #[test]
    fn silent_on_hashes_descriptions_and_other_types() {
        let m = schema(vec![table(
            "app.users",
            &[
                ("password_hash", "text"),
                ("hashed_password", "text"),
                ("encrypted_api_key", "bytea"),
                ("bcrypt_password", "character varying(60)"),
                ("password_changed_at", "timestamp with time zone"),
                ("password_salt", "text"),
                ("api_key_id", "text"),
                ("card_token", "text"),
                ("payment_token", "text"),
                ("pwd", "bytea"),
                ("name", "text"),
            ],
        )]);
        assert!(run(&RULE, &m).is_empty());
    }
}
