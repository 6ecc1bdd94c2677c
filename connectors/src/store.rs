//! The one place that turns a URL plus options into an object store, and makes it
//! known to a DataFusion session.
//!
//! Options come from the environment (`AWS_*`, `GOOGLE_*`, `AZURE_*`, as
//! object_store reads them) and then from the catalog's `[stores."ROOT"]` table,
//! which wins. Requests retry at most twice within ten seconds: a wrong credential
//! or a missing bucket is a client error and is not retried at all, and an
//! unreachable endpoint fails within seconds rather than a retry storm.

use crate::catalog::Catalog;
use crate::error::{ConnectorError, Result};
use datafusion::prelude::SessionContext;
use object_store::{BackoffConfig, ClientOptions, ObjectStore, RetryConfig};
use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use url::Url;

/// The root of the store holding `url` (`s3://bucket`, `https://host:port`).
pub fn store_root(url: &Url) -> Url {
    let mut root = url.clone();
    root.set_path("");
    root.set_query(None);
    root.set_fragment(None);
    root
}

/// The store holding `url`, built once per root and options, and registered with
/// the session so its scans find it.
pub fn register_store(ctx: &SessionContext, url: &Url, catalog: &Catalog) -> Result<Arc<dyn ObjectStore>> {
    let root = store_root(url);
    if url.scheme() == "file" {
        // DataFusion's local file system store.
        return ctx.runtime_env().object_store(datafusion::datasource::listing::ListingTableUrl::parse(url.as_str())?).map_err(Into::into);
    }
    let options = catalog.store_options(url);
    let store = cached_store(&root, &options)?;
    ctx.runtime_env().register_object_store(&root, store.clone());
    Ok(store)
}

fn cached_store(root: &Url, options: &BTreeMap<String, String>) -> Result<Arc<dyn ObjectStore>> {
    type Key = (String, BTreeMap<String, String>);
    static STORES: OnceLock<Mutex<HashMap<Key, Arc<dyn ObjectStore>>>> = OnceLock::new();
    let key = (root.to_string(), options.clone());
    let mut stores = STORES.get_or_init(Default::default).lock().unwrap_or_else(|p| p.into_inner());
    if let Some(store) = stores.get(&key) {
        return Ok(store.clone());
    }
    let store = build_store(root, options)?;
    stores.insert(key, store.clone());
    Ok(store)
}

fn retry() -> RetryConfig {
    RetryConfig {
        backoff: BackoffConfig { init_backoff: Duration::from_millis(100), max_backoff: Duration::from_secs(2), base: 2.0 },
        max_retries: 2,
        retry_timeout: Duration::from_secs(10),
    }
}

fn client_options() -> ClientOptions {
    ClientOptions::new().with_connect_timeout(Duration::from_secs(5)).with_timeout(Duration::from_secs(120))
}

/// A new store for a root URL with the given options.
pub fn build_store(root: &Url, options: &BTreeMap<String, String>) -> Result<Arc<dyn ObjectStore>> {
    let bad_key = |k: &str| ConnectorError::Invalid(format!("store option '{k}' for {root} is not an object_store configuration key"));
    let fail = |e: object_store::Error| ConnectorError::Store { url: root.to_string(), message: crate::error::one_line(&e) };
    let store: Arc<dyn ObjectStore> = match root.scheme() {
        "s3" | "s3a" => {
            use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
            let mut b = AmazonS3Builder::from_env().with_url(root.as_str()).with_retry(retry()).with_client_options(client_options());
            for (k, v) in options {
                b = b.with_config(AmazonS3ConfigKey::from_str(k).map_err(|_| bad_key(k))?, v);
            }
            // An S3-compatible server on plain HTTP (MinIO, s3s, a test server).
            if options.get("endpoint").or(options.get("aws_endpoint")).is_some_and(|e| e.starts_with("http://")) {
                b = b.with_allow_http(true);
            }
            Arc::new(b.build().map_err(fail)?)
        }
        "gs" => {
            use object_store::gcp::{GoogleCloudStorageBuilder, GoogleConfigKey};
            let mut b = GoogleCloudStorageBuilder::from_env().with_url(root.as_str()).with_retry(retry()).with_client_options(client_options());
            for (k, v) in options {
                b = b.with_config(GoogleConfigKey::from_str(k).map_err(|_| bad_key(k))?, v);
            }
            Arc::new(b.build().map_err(fail)?)
        }
        "az" | "azure" | "abfs" | "abfss" => {
            use object_store::azure::{AzureConfigKey, MicrosoftAzureBuilder};
            let mut b = MicrosoftAzureBuilder::from_env().with_url(root.as_str()).with_retry(retry()).with_client_options(client_options());
            for (k, v) in options {
                b = b.with_config(AzureConfigKey::from_str(k).map_err(|_| bad_key(k))?, v);
            }
            Arc::new(b.build().map_err(fail)?)
        }
        "http" | "https" => {
            use object_store::{http::HttpBuilder, ClientConfigKey};
            let mut b = HttpBuilder::new().with_url(root.as_str()).with_retry(retry()).with_client_options(client_options());
            for (k, v) in options {
                b = b.with_config(ClientConfigKey::from_str(k).map_err(|_| bad_key(k))?, v);
            }
            Arc::new(b.build().map_err(fail)?)
        }
        other => return Err(ConnectorError::Invalid(format!("no object store for scheme '{other}'"))),
    };
    Ok(store)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_each_kind_of_store() {
        let opts = |kv: &[(&str, &str)]| kv.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<BTreeMap<_, _>>();
        let s3 = opts(&[("endpoint", "http://127.0.0.1:9"), ("region", "us-east-1"), ("access_key_id", "a"), ("secret_access_key", "b")]);
        assert!(build_store(&Url::parse("s3://bucket").unwrap(), &s3).is_ok());
        assert!(build_store(&Url::parse("https://example.com").unwrap(), &BTreeMap::new()).is_ok());
        assert!(build_store(&Url::parse("az://container").unwrap(), &opts(&[("account_name", "acc"), ("use_emulator", "true")])).is_ok());
        let e = build_store(&Url::parse("s3://bucket").unwrap(), &opts(&[("no_such_key", "x")])).unwrap_err().to_string();
        assert!(e.contains("no_such_key"), "{e}");
        assert_eq!(store_root(&Url::parse("s3://b/a/b.parquet?x=1").unwrap()).as_str(), "s3://b");
    }
}
