// Package duckdbcheck reads the Parquet files of procsql export back with
// DuckDB, an independent reader, and compares every column type and value
// with what SELECT * returns. It is its own module so that the main module
// does not depend on DuckDB, which needs cgo.
package duckdbcheck
