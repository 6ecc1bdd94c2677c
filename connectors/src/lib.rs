//! vegalake-connectors
