//! `identifier-too-long`: names longer than PostgreSQL's 63 bytes, which it truncates silently.

use crate::finding::Finding;
use crate::inputs::SchemaInput;
use crate::rule::{Category, Check, Context, Rule};
use crate::rules::naming::named;
use crate::rules::util::{truncate_bytes, MAX_IDENTIFIER_BYTES};
use crate::Severity;

pub static RULE: Rule = Rule {
    id: "identifier-too-long",
    category: Category::Naming,
    severity: Severity::Error,
    summary: "Names longer than 63 bytes (PostgreSQL truncates them)",
    explanation: "PostgreSQL keeps at most 63 bytes of an identifier (NAMEDATALEN - 1) and \
truncates longer ones with a mere NOTICE: the object gets a name the schema files do not \
contain, two long names sharing their first 63 bytes collide, and every later `ALTER`, `DROP` \
or comparison written with the full name misses it.\n\nShorten the name in the schema files. \
Only the schema files can show this: a database already holds the truncated names, so the rule \
is silent when linting a live database.",
    bundle: None,
    check: Check::Schema(check),
};

fn check(s: &SchemaInput, _ctx: &Context, out: &mut Vec<Finding>) {
    if s.live {
        return;
    }
    for n in named(s) {
        if n.name.len() <= MAX_IDENTIFIER_BYTES {
            continue;
        }
        let cut = truncate_bytes(n.name, MAX_IDENTIFIER_BYTES);
        out.push(
            Finding::new(
                &RULE,
                format!(
                    "{} {} has a {}-byte name; PostgreSQL truncates it to {cut}",
                    n.kind.as_str(),
                    n.object,
                    n.name.len()
                ),
            )
            .object(&n.object)
            .at(n.loc)
            .fix(format!(
                "shorten the name to at most {MAX_IDENTIFIER_BYTES} bytes"
            )),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inputs::Locations;
    use crate::rules::structure::testing::*;
    use confiture_core::config::linting::LintingConfig;

    fn long() -> String {
        format!("customer_{}", "x".repeat(60))
    }

    #[test]
    fn fires_on_long_names_statically() {
        let name = long();
        let t = table("app", &name, &["id", &format!("col_{}", "é".repeat(30))]);
        let f = run(&RULE, &schema(vec![t]), &LintingConfig::default());
        let col = format!("app.{name}.col_{}", "é".repeat(30));
        assert_eq!(objects(&f), [format!("app.{name}"), col]);
        assert!(f
            .iter()
            .all(|f| f.rule == "identifier-too-long" && f.severity == Severity::Error));
        assert!(f[0].message.contains("69-byte"), "{}", f[0].message);
        assert!(f[0].message.ends_with(&name[..63]), "{}", f[0].message);
        // Truncated on a character boundary: `col_` + 29 two-byte characters.
        assert!(f[1].message.ends_with(&format!("col_{}", "é".repeat(29))));
    }

    #[test]
    fn silent_on_short_names_and_live_databases() {
        let name = "x".repeat(63);
        let model = schema(vec![table("app", &name, &["id"])]);
        assert!(run(&RULE, &model, &LintingConfig::default()).is_empty());
        let model = schema(vec![table("app", &long(), &["id"])]);
        let f = run_with(
            &RULE,
            &model,
            &LintingConfig::default(),
            &Locations::default(),
            true,
        );
        assert!(f.is_empty());
    }
}
