// Package app holds budgetgate's use cases: the flows that span the domain
// (errorbudget, variant, ccb), the store and notifications. It declares what
// it needs from the store, and the records and filters the store answers
// with; db implements them, and handlers call app rather than db.
package app
