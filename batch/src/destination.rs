//! Where a batch's charts go: a directory, a Delta table, or both. With a table
//! alone, the charts are drawn into a temporary directory first, removed after.

use crate::draw::Format;
use crate::outputs::Outputs;
use crate::table::{table_url, write_table};
use crate::BatchError;
use std::path::{Path, PathBuf};
use url::Url;
use vegalake_connectors::DataAccess;

pub struct Destination {
    /// The directory the charts are drawn into.
    dir: PathBuf,
    /// Whether `dir` is only a staging place for the table.
    staging: bool,
    table: Option<Url>,
}

impl Destination {
    /// `out` and/or `table` (`delta+URL` or a path); at least one.
    pub fn new(out: Option<PathBuf>, table: Option<&str>) -> Result<Self, BatchError> {
        let table = table.map(table_url).transpose()?;
        match (out, &table) {
            (Some(dir), _) => Ok(Destination { dir, staging: false, table }),
            (None, Some(_)) => Ok(Destination { dir: std::env::temp_dir().join(format!("vegalake-batch-{}", std::process::id())), staging: true, table }),
            (None, None) => Err(BatchError::Destination("where should the charts go? give an output directory or a table".into())),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The directory the user asked for (not a staging place).
    pub fn out(&self) -> Option<&Path> {
        (!self.staging).then_some(self.dir.as_path())
    }

    pub fn table(&self) -> Option<&Url> {
        self.table.as_ref()
    }

    /// Writes the drawn charts to the table, if one was asked for, and removes the
    /// staging directory; the table's version.
    pub async fn finish(&self, outputs: &Outputs, keys: &[String], formats: &[Format], access: &DataAccess) -> Result<Option<u64>, BatchError> {
        let Some(url) = &self.table else { return Ok(None) };
        let version = write_table(url, &self.dir, outputs.records(), keys, formats, access).await?;
        if self.staging {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
        Ok(Some(version))
    }
}
