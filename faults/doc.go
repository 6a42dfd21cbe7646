// Package faults holds tests that start the real budgetgate binary and hurt
// it the way production will: SIGKILL under load, SIGTERM with requests in
// flight, a full disk, a corrupt database file. It has no code of its own.
package faults
