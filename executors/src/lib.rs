//! vegalake-executors
