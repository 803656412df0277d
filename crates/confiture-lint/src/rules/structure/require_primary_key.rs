//! `require-primary-key`: every table has a primary key.

use crate::finding::Finding;
use crate::inputs::SchemaInput;
use crate::rule::{Category, Check, Context, Rule};
use crate::rules::util::{table_key, tables};
use crate::Severity;

pub static RULE: Rule = Rule {
    id: "require-primary-key",
    category: Category::Structure,
    severity: Severity::Error,
    summary: "Every table has a primary key",
    explanation: "A table without a primary key cannot be replicated logically (UPDATE and DELETE \
fail under a publication), lets duplicate rows in, and gives ORMs and data tools nothing to \
address a row by.\n\nAdd one: an identity column (`id bigint GENERATED ALWAYS AS IDENTITY \
PRIMARY KEY`) or the natural key (`PRIMARY KEY (tenant_id, code)`).",
    bundle: None,
    check: Check::Schema(check),
};

fn check(s: &SchemaInput, _ctx: &Context, out: &mut Vec<Finding>) {
    for t in tables(s) {
        if t.constraints.values().any(|c| c.kind == "primary_key") {
            continue;
        }
        let key = table_key(t);
        out.push(
            Finding::new(&RULE, format!("table {key} has no primary key"))
                .object(&key)
                .at(s.locations.get("table", &key))
                .fix(format!(
                    "ALTER TABLE {key} ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY; -- or the natural key"
                )),
        );
    }
}
