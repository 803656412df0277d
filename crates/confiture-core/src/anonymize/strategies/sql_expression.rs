//! `sql_expression`: the value is computed in the target by a SQL expression.
//!
//! Options: `expression` (string, required), e.g. `'user_' || id || '@example.com'`. The
//! expression is kept as data: [`crate::anonymize::Strategy::apply`] returns the value
//! unchanged and the sync layer evaluates [`crate::anonymize::Strategy::sql_expression`]
//! (for instance in an `UPDATE` after copying) — it must never ship the original value as is.

use crate::anonymize::Options;
use crate::error::Result;

#[derive(Debug, Clone, PartialEq)]
pub struct SqlExpression {
    pub expression: String,
}

impl SqlExpression {
    pub fn load(o: &mut Options) -> Result<Self> {
        let (expression, node) = o.required_string("expression")?;
        if expression.trim().is_empty() {
            let path = o.path_of("expression");
            return Err(o.invalid(node, format!("'{path}' must not be empty")));
        }
        Ok(SqlExpression { expression })
    }
}

#[cfg(test)]
mod tests {
    use crate::anonymize::testutil::*;

    #[test]
    fn expression_is_required_and_not_empty() {
        let err = try_load("sql_expression", "", true).unwrap_err();
        assert_eq!(err.code.id, "CONFIG_011");
        assert_eq!(err.message, "'columns.c.expression' is required");
        let err = try_load("sql_expression", "expression: ' '", true).unwrap_err();
        assert_eq!(err.code.id, "CONFIG_010");
    }
}
