//! `names-need-quoting`: names that can only be written in double quotes (upper case, spaces,
//! punctuation, a leading digit, reserved keywords).

use crate::finding::Finding;
use crate::inputs::SchemaInput;
use crate::rule::{Category, Check, Context, Rule};
use crate::rules::naming::{named, Kind};
use crate::rules::util::{
    needs_quoting, needs_quoting_as_function_or_type, to_snake_case, RESERVED_KEYWORDS,
    TYPE_FUNC_NAME_KEYWORDS,
};
use crate::Severity;

pub static RULE: Rule = Rule {
    id: "names-need-quoting",
    category: Category::Naming,
    severity: Severity::Warning,
    summary: "Names that must be double-quoted in SQL",
    explanation: "A name with upper-case letters, spaces or punctuation, a leading digit, or a \
reserved keyword (`user`, `order`, `group`, `table`, `left`, …) must be written in double quotes \
in every statement; written bare, it is folded to lower case or is a syntax error \
(`SELECT * FROM order`). Every hand-written query, migration and tool has to get the quoting \
right.\n\nRename the object to a plain lower-case name that is not a reserved word \
(`orders`, `app_user`, `group_name`). Names of functions and types may be the keywords \
PostgreSQL allows there (`left`, `like`).",
    bundle: None,
    check: Check::Schema(check),
};

fn reason(name: &str) -> &'static str {
    if RESERVED_KEYWORDS.contains(&name) || TYPE_FUNC_NAME_KEYWORDS.contains(&name) {
        "is a reserved keyword"
    } else if name.chars().any(|c| c.is_uppercase()) {
        "has upper-case letters"
    } else if name.starts_with(|c: char| c.is_ascii_digit()) {
        "starts with a digit"
    } else {
        "has characters other than a-z, 0-9 and _"
    }
}

fn check(s: &SchemaInput, _ctx: &Context, out: &mut Vec<Finding>) {
    for n in named(s) {
        let quoted = match n.kind {
            Kind::Function | Kind::Type => needs_quoting_as_function_or_type(n.name),
            _ => needs_quoting(n.name),
        };
        if !quoted {
            continue;
        }
        let why = reason(n.name);
        let suggestion = to_snake_case(n.name);
        let fix = if needs_quoting(&suggestion) {
            "rename it to a lower-case name that is not a reserved word (e.g. with a prefix or a \
             plural)"
                .to_string()
        } else {
            format!("rename it to {suggestion}")
        };
        out.push(
            Finding::new(
                &RULE,
                format!(
                    "{} {} {why}: it must be double-quoted in SQL",
                    n.kind.as_str(),
                    n.object
                ),
            )
            .object(&n.object)
            .at(n.loc)
            .fix(fix),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::structure::testing::*;
    use confiture_core::config::linting::LintingConfig;
    use confiture_core::schema::Function;

    fn function(name: &str) -> Function {
        Function {
            schema: "app".into(),
            name: name.into(),
            kind: "function".into(),
            language: "sql".into(),
            ..Function::default()
        }
    }

    #[test]
    fn fires_on_keywords_case_and_spaces() {
        let t = table("app", "user", &["id", "order", "First Name", "left", "2fa"]);
        let t = pk(t, "id");
        let t = index(t, "CREATE INDEX \"Idx\" ON app.\"user\" USING btree (id)");
        let mut model = schema(vec![t]);
        model
            .functions
            .insert("app.select()".into(), function("select"));
        let f = run(&RULE, &model, &LintingConfig::default());
        assert_eq!(
            objects(&f),
            [
                "app.user",
                "app.user.order",
                "app.user.First Name",
                "app.user.left",
                "app.user.2fa",
                "app.user.Idx",
                "app.select()"
            ]
        );
        assert!(f
            .iter()
            .all(|f| f.rule == "names-need-quoting" && f.severity == Severity::Warning));
        assert!(
            f[0].message.contains("reserved keyword"),
            "{}",
            f[0].message
        );
        assert!(f[2].message.contains("upper-case"), "{}", f[2].message);
        assert_eq!(f[2].fix.as_deref(), Some("rename it to first_name"));
        assert!(f[4].message.contains("digit"), "{}", f[4].message);
    }

    #[test]
    fn plain_names_and_function_keywords_pass() {
        let t = pk(
            table("app", "users", &["id", "time", "name", "position"]),
            "id",
        );
        let mut model = schema(vec![t]);
        model
            .functions
            .insert("app.left(text)".into(), function("left"));
        let f = run(&RULE, &model, &LintingConfig::default());
        assert!(f.is_empty(), "{f:?}");
    }
}
