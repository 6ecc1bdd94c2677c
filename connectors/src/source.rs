//! A data entry's source: resolved through the catalog and the data directory,
//! checked against the access policy, identified (what changes when the data
//! changes), and loaded as a DataFusion plan.
//!
//! Parquet (a file, a directory of files with hive-style `key=value/` partition
//! directories, or a glob) is a DataFusion listing table; Delta is deltalake's table
//! provider at a pinned version ([`crate::delta`]). Both are scans that take
//! projections and filters, so Parquet row-group statistics, Delta file statistics
//! and partition values prune.

use crate::access::DataAccess;
use crate::delta::{delta_version, DeltaVersionTable};
use crate::error::{store_error, ConnectorError, Result};
use crate::location::TableFormat;
use crate::memory::{self, memory_name, MemoryTable};
use crate::store::register_store;
use crate::warehouse::WarehouseTable;
use datafusion::arrow::datatypes::DataType;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl};
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::SessionContext;
use futures::TryStreamExt;
use object_store::{ObjectMeta, ObjectStoreExt};
use std::sync::Arc;
use url::Url;

/// The size of a table a dataset reads, to set what a scan read against.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TableStats {
    /// The table's URL as the spec or catalog gave it (resolved).
    pub url: String,
    pub files: usize,
    pub bytes: u64,
}

/// A loaded source: its plan, and for tables their size.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub plan: LogicalPlan,
    pub table: Option<TableStats>,
}

#[derive(Debug, Clone)]
enum Kind {
    /// A file read whole: json, csv, tsv, dsv or arrow.
    File {
        url: Url,
        format: String,
    },
    Parquet {
        url: ListingTableUrl,
        files: Vec<ObjectMeta>,
    },
    Delta {
        url: Url,
        version: u64,
    },
    /// A table handed over in memory.
    Memory(Arc<MemoryTable>),
    /// A table of a warehouse, read through its owner's connection.
    Warehouse(Arc<WarehouseTable>),
}

/// A data entry's `url`, resolved, allowed and identified.
#[derive(Debug, Clone)]
pub struct Source {
    kind: Kind,
    identity: String,
    client_readable: bool,
}

impl Source {
    /// Resolves `url` (with the entry's `format.type`), checks it, and asks the
    /// store what it holds now: a file's size and time, a listing, a Delta version.
    pub async fn open(ctx: &SessionContext, url: &str, format_type: Option<&str>, access: &DataAccess) -> Result<Source> {
        if let Some(name) = memory_name(url) {
            if let Some(table) = access.warehouse.get(name) {
                let identity = format!("warehouse {name} {}", table.identity());
                return Ok(Source { kind: Kind::Warehouse(table.clone()), identity, client_readable: false });
            }
            let table = memory::lookup(&access.memory, url, name)?;
            let identity = format!("memory {name} {}", table.identity());
            return Ok(Source { kind: Kind::Memory(table.clone()), identity, client_readable: false });
        }
        let resolved = access.resolve(url)?;
        let relative = !url.contains("://");
        let client_readable = (relative || resolved.url.scheme().starts_with("http")) && resolved.format.is_none();
        let ty = match resolved.format {
            Some(TableFormat::Parquet) => "parquet".to_string(),
            Some(TableFormat::Delta) => "delta".to_string(),
            None => crate::format_type(format_type, resolved.url.path()),
        };
        let store_url = |u: &Url| register_store(ctx, u, &access.catalog);
        let (kind, identity) = match ty.as_str() {
            "delta" => {
                store_url(&resolved.url)?;
                let version = delta_version(ctx, &resolved, access).await?;
                (Kind::Delta { url: resolved.url.clone(), version }, format!("delta {} v{version}", resolved.url))
            }
            "parquet" => {
                let url = listing_url(&resolved.url)?;
                let store = store_url(&resolved.url)?;
                let files: Vec<ObjectMeta> = url
                    .list_all_files(&ctx.state(), store.as_ref(), ".parquet")
                    .await
                    .map_err(|e| store_error(&resolved.url, &e))?
                    .try_collect()
                    .await
                    .map_err(|e| store_error(&resolved.url, &e))?;
                if files.is_empty() {
                    return Err(ConnectorError::Invalid(format!("url '{url}': no Parquet files there")));
                }
                let mut identity = format!("parquet {url}");
                for f in &files {
                    identity.push_str(&format!(" {}:{}:{}", f.location, f.size, f.last_modified.timestamp_millis()));
                }
                (Kind::Parquet { url, files }, identity)
            }
            _ => {
                let (store, path) = file_location(ctx, &resolved.url, access)?;
                let meta = store.head(&path).await.map_err(|e| store_error(&resolved.url, &e))?;
                let identity = format!("file {} {}:{}:{:?}", resolved.url, meta.size, meta.last_modified.timestamp_millis(), meta.e_tag);
                (Kind::File { url: resolved.url.clone(), format: ty }, identity)
            }
        };
        Ok(Source { kind, identity, client_readable })
    }

    /// What changes when the data changes (for cache keys).
    pub fn identity(&self) -> &str {
        &self.identity
    }

    /// The Arrow bytes of an in-memory table (0 for other sources).
    pub fn in_memory_bytes(&self) -> u64 {
        match &self.kind {
            Kind::Memory(table) => table.bytes(),
            _ => 0,
        }
    }

    /// True if a browser could read this URL itself (a relative or http(s) file).
    pub fn client_readable(&self) -> bool {
        self.client_readable
    }

    /// A file's text format (`json`, `csv`, ...), `None` for tables.
    pub fn file_format(&self) -> Option<&str> {
        match &self.kind {
            Kind::File { format, .. } => Some(format),
            _ => None,
        }
    }

    /// The bytes of a file read whole.
    pub async fn read_bytes(&self, ctx: &SessionContext, access: &DataAccess) -> Result<bytes::Bytes> {
        let Kind::File { url, .. } = &self.kind else {
            return Err(ConnectorError::Invalid("tables are scanned, not read whole".into()));
        };
        let (store, path) = file_location(ctx, url, access)?;
        let got = store.get(&path).await.map_err(|e| store_error(url, &e))?;
        got.bytes().await.map_err(|e| store_error(url, &e))
    }

    /// The scan of a table (Parquet, Delta or in memory), with its size (of lake tables).
    pub async fn scan_table(&self, ctx: &SessionContext, access: &DataAccess) -> Result<Loaded> {
        match &self.kind {
            Kind::Parquet { url, files } => {
                let partitions = partition_columns(url, files)?;
                let options = ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(".parquet").with_table_partition_cols(partitions);
                let config = ListingTableConfig::new(url.clone()).with_listing_options(options).infer_schema(&ctx.state()).await?;
                let table = ListingTable::try_new(config)?;
                let plan = ctx.read_table(Arc::new(table))?.into_unoptimized_plan();
                let stats = TableStats { url: url.to_string(), files: files.len(), bytes: files.iter().map(|f| f.size).sum() };
                Ok(Loaded { plan, table: Some(stats) })
            }
            Kind::Delta { url, version } => {
                let (table, stats) = DeltaVersionTable::load(ctx, url, *version, access).await?;
                let plan = ctx.read_table(Arc::new(table))?.into_unoptimized_plan();
                Ok(Loaded { plan, table: Some(stats) })
            }
            Kind::Memory(table) => Ok(Loaded { plan: table.scan()?, table: None }),
            Kind::Warehouse(table) => Ok(Loaded { plan: table.scan()?, table: None }),
            Kind::File { url, .. } => Err(ConnectorError::Invalid(format!("{url} is a file, not a table"))),
        }
    }
}

/// The store holding a single file, and the file's path in it.
fn file_location(ctx: &SessionContext, url: &Url, access: &DataAccess) -> Result<(Arc<dyn object_store::ObjectStore>, object_store::path::Path)> {
    Ok((register_store(ctx, url, &access.catalog)?, listing_url(url)?.prefix().clone()))
}

/// A listing URL: a directory (a last segment without a dot) gets its trailing slash.
fn listing_url(url: &Url) -> Result<ListingTableUrl> {
    let mut u = url.clone();
    let last = u.path_segments().and_then(|mut s| s.next_back()).unwrap_or("");
    if !last.is_empty() && !last.contains('.') && !last.contains(['*', '?', '[']) {
        let p = format!("{}/", u.path());
        u.set_path(&p);
    }
    Ok(ListingTableUrl::parse(u.as_str())?)
}

/// Hive-style partition columns (`key=value` directories), typed as integers or
/// floats where every value is one, else strings.
fn partition_columns(url: &ListingTableUrl, files: &[ObjectMeta]) -> Result<Vec<(String, DataType)>> {
    let mut names: Option<Vec<String>> = None;
    let mut values: Vec<Vec<String>> = Vec::new();
    for f in files {
        let parts: Vec<&str> = url.strip_prefix(&f.location).map(|p| p.collect()).unwrap_or_default();
        let dirs = &parts[..parts.len().saturating_sub(1)];
        let pairs: Vec<(&str, &str)> = dirs.iter().filter_map(|d| d.split_once('=')).collect();
        let keys: Vec<String> = pairs.iter().map(|(k, _)| k.to_string()).collect();
        match &names {
            None => {
                values = vec![Vec::new(); keys.len()];
                names = Some(keys);
            }
            Some(n) if *n != keys => {
                return Err(ConnectorError::Invalid(format!(
                    "url '{url}': partition directories differ between files ({} vs {})",
                    n.join("/"),
                    keys.join("/")
                )));
            }
            Some(_) => {}
        }
        for (i, (_, v)) in pairs.iter().enumerate() {
            values[i].push(v.to_string());
        }
    }
    let typed = |vals: &[String]| {
        let present = vals.iter().filter(|v| v.as_str() != "__HIVE_DEFAULT_PARTITION__");
        if present.clone().all(|v| v.parse::<i64>().is_ok()) {
            DataType::Int64
        } else if present.clone().all(|v| v.parse::<f64>().is_ok()) {
            DataType::Float64
        } else {
            DataType::Utf8
        }
    };
    Ok(names.unwrap_or_default().into_iter().zip(&values).map(|(n, v)| (n, typed(v))).collect())
}
