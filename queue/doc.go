// Package queue owns Sealpost's use of River: the client for either database
// driver, the delivery job kind and its worker, and the retry policy.
//
// A delivery job's arguments are the message id and nothing else, so River's
// rows never hold an address or content; the errors the worker returns to
// River (which River stores) are value-free reasons such as
// "smtp rcpt: 450 4.2.0".
//
// Accepting a message inserts its row and its job in one transaction. Each
// attempt's outcome is written in the transaction that completes the job
// (river.JobCompleteTx), so a crash can neither lose a sent mark nor invent
// one: a job whose worker died is rescued and tried again, and the retry
// reuses the message's Message-ID.
//
// The package does not render, sign or send; a Deliverer does.
package queue
