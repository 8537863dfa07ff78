//! AggregateItems and QueryDistinctValues.
//!
//! Aggregation is one SQL statement: the grouping (`WHERE initial_filter
//! GROUP BY ...`) as a subquery `g` whose columns are named `g0..` (grouping
//! fields) and `a0..` (results), and the final filter, sort and paging over
//! `g`. The final filter is translated by the same code as item filters,
//! with names resolved to those columns.

use std::collections::BTreeMap;

use extdb_contract::pb::{self, AggregateFunction, value::Kind};

use super::db::{DbValue, Dialect, Tx};

/// `GROUP BY` positions (a grouping field per position, at most
/// [`ORDINALS`]`.len()`).
const ORDINALS: [&str; 32] = [
    "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16", "17",
    "18", "19", "20", "21", "22", "23", "24", "25", "26", "27", "28", "29", "30", "31", "32",
];
use super::error::StoreError;
use super::paging::{CursorKey, OffsetPage};
use super::schema::{self, CollectionDef};
use super::sql::{self, Column, Ident, Resolve, SortTarget, Sql, Target};
use super::values::{self, StorageKind};

/// One column of the group rows.
struct RowColumn {
    /// Key in the output row: the grouping path or the result name.
    name: String,
    alias: Ident,
    kind: StorageKind,
}

/// Resolves final-filter and sort names to group-row columns.
struct GroupRows<'a> {
    collection_id: &'a str,
    columns: &'a [RowColumn],
}

impl Resolve for GroupRows<'_> {
    fn resolve(&self, path: &str) -> Result<Target, StoreError> {
        let column = self
            .columns
            .iter()
            .find(|c| c.name == path)
            .ok_or_else(|| StoreError::field_doesnt_exist(self.collection_id, path))?;
        Ok(Target {
            path: path.to_owned(),
            column: Some(Column {
                qualifier: "g",
                name: column.alias.clone(),
            }),
            kind: column.kind,
            json_path: None,
        })
    }
}

/// Appends the grouping expression for a path: the column for a field, the
/// JSON text at the path for a dotted path (grouped and returned as JSON).
fn push_group_expr(sql: &mut Sql, target: &Target) -> Result<StorageKind, StoreError> {
    let Some(column) = &target.column else {
        return Err(StoreError::bad_request(format!(
            "cannot group by {}",
            target.path
        )));
    };
    match &target.json_path {
        None => {
            sql.column(column);
            Ok(target.kind)
        }
        Some(path) if sql.dialect() == Dialect::Postgres => {
            sql::pg::push_json(sql, column, path);
            Ok(StorageKind::Any)
        }
        Some(path) => {
            sql.push("(")
                .column(column)
                .push(" -> ")
                .param(path.clone())
                .push(")");
            Ok(StorageKind::Any)
        }
    }
}

/// The aggregated expression of an operation and the kind of its result.
fn push_operation(
    sql: &mut Sql,
    def: &CollectionDef,
    operation: &pb::AggregateOperation,
) -> Result<StorageKind, StoreError> {
    let function = AggregateFunction::try_from(operation.function)
        .ok()
        .filter(|f| *f != AggregateFunction::Unspecified)
        .ok_or_else(|| {
            StoreError::bad_request(format!(
                "unknown aggregate function for {}",
                operation.result_field_name
            ))
        })?;
    if function == AggregateFunction::Count {
        // A NUMBER like every other number (PostgreSQL's COUNT is BIGINT,
        // which a final filter's operand would have to match).
        sql.push(if sql.dialect() == Dialect::Postgres {
            "CAST(COUNT(*) AS DOUBLE PRECISION)"
        } else {
            "COUNT(*)"
        });
        return Ok(StorageKind::Number);
    }
    let field = def.require_field(&operation.item_field_name)?;
    let Some(column) = &field.column else {
        return Err(StoreError::bad_request(format!(
            "cannot aggregate {}",
            operation.item_field_name
        )));
    };
    let numeric_only = matches!(
        function,
        AggregateFunction::Average | AggregateFunction::Sum
    );
    if (numeric_only && field.kind != StorageKind::Number) || !field.kind.is_scalar() {
        return Err(StoreError::bad_request(format!(
            "{} is not supported on {}",
            function.as_str_name(),
            operation.item_field_name
        )));
    }
    let postgres = sql.dialect() == Dialect::Postgres;
    sql.push(match function {
        AggregateFunction::Average => "AVG(",
        // 0 rather than NULL for a group without values.
        AggregateFunction::Sum if postgres => "COALESCE(SUM(",
        AggregateFunction::Sum => "TOTAL(",
        // PostgreSQL has no MIN / MAX of booleans.
        AggregateFunction::Min if postgres && field.kind == StorageKind::Bool => "bool_and(",
        AggregateFunction::Max if postgres && field.kind == StorageKind::Bool => "bool_or(",
        AggregateFunction::Min => "MIN(",
        _ => "MAX(",
    });
    sql.push("t.").ident(column).push(")");
    if postgres && function == AggregateFunction::Sum {
        sql.push(", 0)");
    }
    Ok(if numeric_only {
        StorageKind::Number
    } else {
        field.kind
    })
}

/// AggregateItems.
pub(crate) async fn aggregate<T: Tx>(
    tx: &mut T,
    request: pb::AggregateItemsRequest,
    key: &CursorKey,
) -> Result<pb::AggregateItemsResponse, StoreError> {
    let page = OffsetPage::resolve(request, key)?;
    let request = &page.request;
    let def = schema::require(tx, &request.collection_id).await?;

    let dialect = tx.dialect();
    let mut inner = Sql::new(dialect);
    let mut group_by = Sql::new(dialect);
    let mut columns: Vec<RowColumn> = Vec::new();
    inner.push("SELECT ");
    for (i, path) in request.grouping_fields.iter().enumerate() {
        let target = def.resolve(path)?;
        if i > 0 {
            inner.push(", ");
            group_by.push(", ");
        }
        let kind = push_group_expr(&mut inner, &target)?;
        push_group_expr(&mut group_by, &target)?;
        let alias = Ident::new(&format!("g{i}"))?;
        inner.push(" AS ").ident(&alias);
        columns.push(RowColumn {
            name: path.clone(),
            alias,
            kind,
        });
    }
    for (i, operation) in request.operations.iter().enumerate() {
        let name = &operation.result_field_name;
        if name.is_empty() || columns.iter().any(|c| &c.name == name) {
            return Err(StoreError::bad_request(format!(
                "result field name {name:?} is empty or already used"
            )));
        }
        if !columns.is_empty() {
            inner.push(", ");
        }
        let kind = push_operation(&mut inner, &def, operation)?;
        let alias = Ident::new(&format!("a{i}"))?;
        inner.push(" AS ").ident(&alias);
        columns.push(RowColumn {
            name: name.clone(),
            alias,
            kind,
        });
    }
    if columns.is_empty() {
        return Err(StoreError::bad_request(
            "aggregation needs grouping fields or operations",
        ));
    }
    inner.push(" FROM ").ident(&def.table).push(" AS t WHERE ");
    sql::push_filter(&mut inner, request.initial_filter.as_ref(), &def)?;
    if !request.grouping_fields.is_empty() {
        match dialect {
            Dialect::Sqlite => {
                inner.push(" GROUP BY ").append(&group_by);
            }
            // By position: the grouping expressions bind their paths as
            // parameters, and PostgreSQL does not see `$1` and `$7` as the
            // same expression.
            Dialect::Postgres => {
                inner.push(" GROUP BY ");
                for i in 0..request.grouping_fields.len() {
                    if i > 0 {
                        inner.push(", ");
                    }
                    inner.push(
                        ORDINALS
                            .get(i)
                            .copied()
                            .ok_or_else(|| StoreError::bad_request("too many grouping fields"))?,
                    );
                }
            }
        }
    }

    let rows_resolver = GroupRows {
        collection_id: &def.id,
        columns: &columns,
    };
    // A grouping column sorts in the order that pages group rows anyway
    // (below), a dotted path's JSON value included; only result columns
    // must be sortable kinds.
    let grouping = &columns[..request.grouping_fields.len()];
    let mut keys = request
        .sort
        .iter()
        .map(|key| {
            let target = rows_resolver.resolve(&key.field_path)?;
            if !grouping.iter().any(|c| c.name == key.field_path) {
                target.check_sortable()?;
            }
            Ok(SortTarget {
                target,
                descending: key.order == pb::SortOrder::Desc as i32,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    // Grouping columns make the order total, so pages are stable.
    for column in columns.iter().take(request.grouping_fields.len()) {
        if !keys.iter().any(|k| k.target.path == column.name) {
            keys.push(SortTarget {
                target: rows_resolver.resolve(&column.name)?,
                descending: false,
            });
        }
    }
    let mut filtered = Sql::new(dialect);
    filtered
        .push("SELECT * FROM (")
        .append(&inner)
        .push(") AS g WHERE ");
    sql::push_filter(&mut filtered, request.final_filter.as_ref(), &rows_resolver)?;

    let mut query = Sql::new(dialect);
    query.append(&filtered);
    sql::push_order_by(&mut query, &keys, false)?;
    let mut rows = page
        .fetch(tx, query, |row| {
            let mut fields = BTreeMap::new();
            for (column, raw) in columns.iter().zip(row) {
                fields.insert(column.name.clone(), values::from_sql(column.kind, raw)?);
            }
            Ok(pb::Item { fields })
        })
        .await?;
    let paging_metadata = page.finish(tx, &mut rows, &filtered).await?;
    Ok(pb::AggregateItemsResponse {
        rows,
        paging_metadata: Some(paging_metadata),
    })
}

/// A distinct value as SQLite's `json_each` reports it.
fn json_element(type_name: &str, value: DbValue) -> Result<pb::Value, StoreError> {
    if let DbValue::Json(text) = value {
        // PostgreSQL: the element itself, as JSONB.
        let json = serde_json::from_str(&text)
            .map_err(|e| StoreError::Internal(format!("stored JSON: {e}")))?;
        return Ok(values::json_to_value(json));
    }
    let kind = match (type_name, value) {
        ("text", DbValue::Text(s)) => Kind::StringValue(s),
        ("integer", DbValue::Int(n)) => {
            #[allow(clippy::cast_precision_loss)]
            let n = n as f64;
            Kind::NumberValue(n)
        }
        ("real", DbValue::Real(n)) => Kind::NumberValue(n),
        ("true", _) => Kind::BoolValue(true),
        ("false", _) => Kind::BoolValue(false),
        ("object" | "array", DbValue::Text(text)) => {
            let json = serde_json::from_str(&text)
                .map_err(|e| StoreError::Internal(format!("stored JSON: {e}")))?;
            return Ok(values::json_to_value(json));
        }
        (other, _) => {
            return Err(StoreError::Internal(format!(
                "unexpected JSON element type {other}"
            )));
        }
    };
    Ok(pb::Value { kind: Some(kind) })
}

/// QueryDistinctValues: distinct non-null values of a field or path, array
/// values unwound, sorted.
pub(crate) async fn distinct<T: Tx>(
    tx: &mut T,
    request: pb::QueryDistinctValuesRequest,
    key: &CursorKey,
) -> Result<pb::QueryDistinctValuesResponse, StoreError> {
    let page = OffsetPage::resolve(request, key)?;
    let request = &page.request;
    let def = schema::require(tx, &request.collection_id).await?;
    let dialect = tx.dialect();
    let target = def.resolve(&request.field_path)?;
    let Some(column) = target.column.clone() else {
        return Err(StoreError::bad_request(format!(
            "no distinct values for {}",
            request.field_path
        )));
    };
    let descending = request.order == pb::SortOrder::Desc as i32;
    let scalar = target.json_path.is_none() && target.kind.is_scalar();

    let mut values_sql = Sql::new(dialect);
    if scalar {
        values_sql
            .push("SELECT DISTINCT NULL AS type, ")
            .column(&column)
            .push(" AS value FROM ")
            .ident(&def.table)
            .push(" AS t WHERE ");
        sql::push_filter(&mut values_sql, request.filter.as_ref(), &def)?;
        values_sql
            .push(" AND ")
            .column(&column)
            .push(" IS NOT NULL");
    } else {
        // The JSON text of the value; arrays are unwound, anything else is
        // wrapped into a one-element array.
        let push_json = |sql: &mut Sql| match &target.json_path {
            None => {
                sql.column(&column);
            }
            Some(path) if dialect == Dialect::Postgres => sql::pg::push_json(sql, &column, path),
            Some(path) => {
                sql.push("(")
                    .column(&column)
                    .push(" -> ")
                    .param(path.clone())
                    .push(")");
            }
        };
        if dialect == Dialect::Postgres {
            values_sql
                .push("SELECT DISTINCT jsonb_typeof(j.value) AS type, j.value AS value FROM ")
                .ident(&def.table)
                .push(" AS t, jsonb_array_elements(CASE jsonb_typeof(");
            push_json(&mut values_sql);
            values_sql.push(") WHEN 'array' THEN ");
            push_json(&mut values_sql);
            values_sql.push(" ELSE jsonb_build_array(");
            push_json(&mut values_sql);
            values_sql.push(") END) AS j(value) WHERE ");
            sql::push_filter(&mut values_sql, request.filter.as_ref(), &def)?;
            values_sql.push(" AND jsonb_typeof(j.value) <> 'null'");
        } else {
            values_sql
                .push("SELECT DISTINCT j.type AS type, j.value AS value FROM ")
                .ident(&def.table)
                .push(" AS t, json_each(CASE json_type(");
            push_json(&mut values_sql);
            values_sql.push(") WHEN 'array' THEN ");
            push_json(&mut values_sql);
            values_sql.push(" ELSE json_array(json(");
            push_json(&mut values_sql);
            values_sql.push(")) END) AS j WHERE ");
            sql::push_filter(&mut values_sql, request.filter.as_ref(), &def)?;
            values_sql.push(" AND j.type <> 'null'");
        }
    }

    let mut query = Sql::new(dialect);
    query
        .push("SELECT type, value FROM (")
        .append(&values_sql)
        .push(") AS d");
    query.push(if descending {
        " ORDER BY value DESC, type DESC"
    } else {
        " ORDER BY value ASC, type ASC"
    });
    let mut distinct_values = page
        .fetch(tx, query, |row| {
            let mut row = row.into_iter();
            let (type_name, raw) = (row.next(), row.next().unwrap_or(DbValue::Null));
            match type_name {
                Some(DbValue::Text(type_name)) => json_element(&type_name, raw),
                _ => values::from_sql(target.kind, raw),
            }
        })
        .await?;
    let paging_metadata = page.finish(tx, &mut distinct_values, &values_sql).await?;
    Ok(pb::QueryDistinctValuesResponse {
        distinct_values,
        paging_metadata: Some(paging_metadata),
    })
}
