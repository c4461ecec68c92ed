// Package store opens the orders database of the holdout3 corpus jobs through database/sql;
// the DSN is a constant of this package and the driver is registered by the program's main.
package store
