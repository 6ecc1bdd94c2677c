//! The exceptions the package raises, one per [`ErrorKind`], all subclasses of
//! `VegalakeError`, each with the one-line message the CLI prints.

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use vegalake_executors::{ErrorKind, EvalError};

create_exception!(_vegalake, VegalakeError, PyException, "Base class of vegalake's errors.");
create_exception!(_vegalake, SpecError, VegalakeError, "The spec is wrong: a syntax error, an unknown transform, a bad parameter.");
create_exception!(_vegalake, ForbiddenError, VegalakeError, "The spec names data outside what this runtime may read.");
create_exception!(_vegalake, DataError, VegalakeError, "The chart's data cannot be read: a missing file or table, a store that refuses.");
create_exception!(_vegalake, EngineError, VegalakeError, "The engine failed or cannot be reached.");
create_exception!(_vegalake, QueryTimeout, VegalakeError, "A query ran past its timeout and was cancelled on the engine.");
create_exception!(_vegalake, MemoryLimitError, VegalakeError, "A query needed more memory than the runtime's memory_limit, even spilling to disk.");
create_exception!(_vegalake, RenderError, VegalakeError, "A chart could not be drawn: vega.js failed on it, a limit stopped it, or fonts are missing.");

pub fn to_py_err(e: EvalError) -> PyErr {
    let line = e.to_string();
    match e.kind {
        ErrorKind::Spec => SpecError::new_err(line),
        ErrorKind::Forbidden => ForbiddenError::new_err(line),
        ErrorKind::Data => DataError::new_err(line),
        ErrorKind::Engine => EngineError::new_err(line),
        ErrorKind::Timeout => QueryTimeout::new_err(line),
        ErrorKind::Memory => MemoryLimitError::new_err(line),
    }
}

pub fn spec_error(message: String) -> PyErr {
    SpecError::new_err(message)
}

pub fn forbidden_error(message: String) -> PyErr {
    ForbiddenError::new_err(message)
}

pub fn timeout_error(message: String) -> PyErr {
    QueryTimeout::new_err(message)
}

pub fn data_error(message: String) -> PyErr {
    DataError::new_err(message)
}

pub fn engine_error(message: String) -> PyErr {
    EngineError::new_err(message)
}

pub fn render_error(message: String) -> PyErr {
    RenderError::new_err(message)
}

pub fn add_to(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("VegalakeError", py.get_type::<VegalakeError>())?;
    m.add("SpecError", py.get_type::<SpecError>())?;
    m.add("ForbiddenError", py.get_type::<ForbiddenError>())?;
    m.add("DataError", py.get_type::<DataError>())?;
    m.add("EngineError", py.get_type::<EngineError>())?;
    m.add("QueryTimeout", py.get_type::<QueryTimeout>())?;
    m.add("MemoryLimitError", py.get_type::<MemoryLimitError>())?;
    m.add("RenderError", py.get_type::<RenderError>())?;
    Ok(())
}
