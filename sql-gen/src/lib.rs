//! vegalake-sql-gen
