//! `snake-case-names`: tables, columns, views, functions, types and schemas are named in lower
//! snake_case.

use crate::finding::Finding;
use crate::inputs::SchemaInput;
use crate::rule::{Category, Check, Context, Rule};
use crate::rules::naming::{named, Kind};
use crate::rules::util::{is_snake_case, to_snake_case};
use crate::Severity;

pub static RULE: Rule = Rule {
    id: "snake-case-names",
    category: Category::Naming,
    severity: Severity::Warning,
    summary: "Tables, columns, views, functions, types and schemas in lower snake_case",
    explanation: "PostgreSQL folds unquoted names to lower case: a table created as \
`\"UserAccounts\"` must be quoted, with that exact case, in every query, forever, while \
`UserAccounts` unquoted means `useraccounts`. Lower snake_case (`user_accounts`: lower-case \
ASCII letters, digits and underscores, not starting with a digit) is read the same quoted or \
not, and is what tools and ORMs expect.\n\nRename the object (`ALTER TABLE … RENAME TO …`) and \
the code that uses it, or exempt it in `linting.rules.snake-case-names.exempt`.",
    bundle: None,
    check: Check::Schema(check),
};

fn check(s: &SchemaInput, _ctx: &Context, out: &mut Vec<Finding>) {
    for n in named(s) {
        if !matches!(
            n.kind,
            Kind::Schema | Kind::Table | Kind::Column | Kind::View | Kind::Function | Kind::Type
        ) || is_snake_case(n.name)
        {
            continue;
        }
        out.push(
            Finding::new(
                &RULE,
                format!(
                    "{} {} is not in lower snake_case",
                    n.kind.as_str(),
                    n.object
                ),
            )
            .object(&n.object)
            .at(n.loc)
            .fix(format!(
                "rename it to {} (and the code that uses it)",
                to_snake_case(n.name)
            )),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::structure::testing::*;
    use confiture_core::config::linting::LintingConfig;
    use confiture_core::schema::{Namespace, TypeDef, TypeKind, View};

    #[test]
    fn fires_on_each_offender() {
        let mut model = schema(vec![table("app", "UserAccounts", &["id", "firstName"])]);
        model.schemas.insert(
            "Billing".into(),
            Namespace {
                name: "Billing".into(),
                ..Namespace::default()
            },
        );
        model.views.insert(
            "app.Active Users".into(),
            View {
                schema: "app".into(),
                name: "Active Users".into(),
                ..View::default()
            },
        );
        model.types.insert(
            "app.Mood".into(),
            TypeDef {
                schema: "app".into(),
                name: "Mood".into(),
                kind: TypeKind::Enum { labels: vec![] },
                owner: "app".into(),
                comment: None,
            },
        );
        let f = run(&RULE, &model, &LintingConfig::default());
        assert_eq!(
            objects(&f),
            [
                "Billing",
                "app.UserAccounts",
                "app.UserAccounts.firstName",
                "app.Active Users",
                "app.Mood"
            ]
        );
        assert!(f
            .iter()
            .all(|f| f.rule == "snake-case-names" && f.severity == Severity::Warning));
        assert_eq!(
            f[1].fix.as_deref(),
            Some("rename it to user_accounts (and the code that uses it)")
        );
        assert!(f.iter().all(|f| f.fix_sql.is_none()));
    }

    #[test]
    fn snake_case_passes() {
        let t = table(
            "app",
            "user_accounts",
            &["id", "first_name", "_private", "line2"],
        );
        let t = index(
            t,
            "CREATE INDEX \"SomeIndex\" ON app.user_accounts USING btree (id)",
        );
        let f = run(&RULE, &schema(vec![t]), &LintingConfig::default());
        assert!(f.is_empty(), "{f:?}");
    }

    #[test]
    fn suggestions() {
        assert_eq!(to_snake_case("HTTPStatus"), "http_status");
        assert_eq!(to_snake_case("userID"), "user_id");
        assert_eq!(to_snake_case("first name"), "first_name");
        assert_eq!(to_snake_case("2fa"), "_2fa");
    }
}
