//! Result rows of [`crate::PgConn`]: a tokio-postgres row whose columns
//! diesel decodes from their binary bytes.

use diesel::pg::{Pg, PgValue};
use diesel::row::{Field, PartialRow, Row, RowIndex, RowSealed};
use std::num::NonZeroU32;
use tokio_postgres::types::Type;

/// One result row.
#[derive(Debug)]
pub struct PgRow(pub(crate) tokio_postgres::Row);

impl RowSealed for PgRow {}

impl<'a> Row<'a, Pg> for PgRow {
    type InnerPartialRow = Self;
    type Field<'f>
        = PgField<'f>
    where
        Self: 'f,
        'a: 'f;

    fn field_count(&self) -> usize {
        self.0.len()
    }

    fn get<'f, I>(&'f self, idx: I) -> Option<Self::Field<'f>>
    where
        'a: 'f,
        Self: RowIndex<I>,
    {
        let idx = self.idx(idx)?;
        let oid = NonZeroU32::new(self.0.columns()[idx].type_().oid())?;
        Some(PgField { row: &self.0, idx, oid })
    }

    fn partial_row(&self, range: std::ops::Range<usize>) -> PartialRow<'_, Self> {
        PartialRow::new(self, range)
    }
}

impl RowIndex<usize> for PgRow {
    fn idx(&self, idx: usize) -> Option<usize> {
        (idx < self.0.len()).then_some(idx)
    }
}

impl RowIndex<&str> for PgRow {
    fn idx(&self, name: &str) -> Option<usize> {
        self.0.columns().iter().position(|c| c.name() == name)
    }
}

/// One column of a [`PgRow`].
#[derive(Debug)]
pub struct PgField<'a> {
    row: &'a tokio_postgres::Row,
    idx: usize,
    oid: NonZeroU32,
}

impl<'a> Field<'a, Pg> for PgField<'a> {
    fn field_name(&self) -> Option<&str> {
        Some(self.row.columns()[self.idx].name())
    }

    fn value(&self) -> Option<PgValue<'_>> {
        let Raw(bytes) = self.row.try_get(self.idx).ok()?;
        Some(PgValue::new(bytes?, &self.oid))
    }
}

/// A column's bytes as they arrived, whatever its type: diesel decodes them.
struct Raw<'a>(Option<&'a [u8]>);

impl<'a> tokio_postgres::types::FromSql<'a> for Raw<'a> {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Raw(Some(raw)))
    }

    fn from_sql_null(_: &Type) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Raw(None))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}
