package db

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// Several instances may share one PostgreSQL database, each with its own
// caches (the parsed policies, the window sums). A write that changes what
// a cache keeps names a topic; the instance that wrote drops its own copy
// after the commit, and on PostgreSQL the same commit notifies the others
// (NOTIFY on changesChannel), whose listener drops theirs. While an
// instance's listener is not connected it may have missed a change, so it
// reads from the database instead of its caches until it is back.

// changesChannel is the PostgreSQL channel writes are announced on.
const changesChannel = "budgetgate_changes"

// Topics of changes.
const (
	topicPolicies = "policies"
	topicSLI      = "sli:" // + sliTopic's service and SLO
)

// sliTopic names an SLO's counts; a tab parts the names (neither holds one),
// since a notification's payload is text.
func sliTopic(service, slo string) string { return topicSLI + service + "\t" + slo }

// maxPayload keeps a NOTIFY payload under PostgreSQL's 8000-byte limit.
const maxPayload = 7000

// peers is what an instance needs to keep its caches in step with others.
type peers struct {
	instance string // in each notification, so that an instance skips its own
	// live says the caches may be used: always on SQLite (one process has
	// the file), and on PostgreSQL while the listener is connected.
	live atomic.Bool
	// listen is the PostgreSQL connection setting; nil on SQLite.
	listen *pgx.ConnConfig
	// remoteData is told of SLI data another instance stored (RemoteData).
	remoteData atomic.Pointer[func(service string)]
}

func newInstanceID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// RemoteData sets what to tell when another instance stores SLI data for a
// service (escalation checks follow data wherever it arrives).
func (d *DB) RemoteData(f func(service string)) { d.peers.remoteData.Store(&f) }

// cachesLive says whether the caches are in step with the database.
func (d *DB) cachesLive() bool { return d.peers.live.Load() }

// changed records that tx changes what the caches keep under topic.
func (tx *Tx) changed(topic string) { tx.topics = append(tx.topics, topic) }

// lockKey holds a lock on key until tx ends, serialising what other
// instances do under the same key. SQLite has one writer, so there it is
// nothing.
func (tx *Tx) lockKey(ctx context.Context, key string) error {
	if q := tx.db.dl.lockKey; q != "" {
		if _, err := tx.ExecContext(ctx, q, key); err != nil {
			return mapErr(err)
		}
	}
	return nil
}

// announce tells the other instances, inside the transaction, of the
// topics it changed; PostgreSQL delivers the notification at commit, and
// not at all if the transaction rolls back.
func (d *DB) announce(ctx context.Context, tx *txConn, topics []string) error {
	if d.peers.listen == nil || len(topics) == 0 {
		return nil
	}
	topics = slices.Compact(slices.Sorted(slices.Values(topics)))
	for len(topics) > 0 {
		payload, n := d.peers.instance, 0
		for n < len(topics) && (n == 0 || len(payload)+1+len(topics[n]) <= maxPayload) {
			payload += "\n" + topics[n]
			n++
		}
		if _, err := tx.ExecContext(ctx, `SELECT pg_notify(?, ?)`, changesChannel, payload); err != nil {
			return fmt.Errorf("db: announcing a change to the other instances: %w", mapErr(err))
		}
		topics = topics[n:]
	}
	return nil
}

// drop drops what this instance's caches keep under the topics.
func (d *DB) drop(topics []string) {
	for _, t := range topics {
		switch {
		case t == topicPolicies:
			d.cache.invalidate()
		case strings.HasPrefix(t, topicSLI):
			service, slo, _ := strings.Cut(strings.TrimPrefix(t, topicSLI), "\t")
			d.counts.bump(sloKey(service, slo))
		}
	}
}

// Listen keeps this instance's caches in step with the other instances'
// writes until ctx ends, reconnecting when the connection drops. On SQLite
// there are no other instances and it returns at once.
func (d *DB) Listen(ctx context.Context) {
	if d.peers.listen == nil {
		return
	}
	for ctx.Err() == nil {
		err := d.listenOnce(ctx)
		d.peers.live.Store(false)
		if ctx.Err() != nil {
			return
		}
		d.Log.Warn("listening for other instances' changes failed; reading without caches until reconnected", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// listenOnce listens on one connection until it fails or ctx ends. The
// caches are emptied once the listener is in place, since changes made
// while it was not may have gone unheard.
func (d *DB) listenOnce(ctx context.Context) error {
	conn, err := pgx.ConnectConfig(ctx, d.peers.listen)
	if err != nil {
		return mapErr(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+changesChannel); err != nil {
		return mapErr(err)
	}
	d.cache.invalidate()
	d.counts.reset()
	d.peers.live.Store(true)
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		origin, body, _ := strings.Cut(n.Payload, "\n")
		if origin == d.peers.instance {
			continue // dropped already, after the commit
		}
		topics := strings.Split(body, "\n")
		d.drop(topics)
		if f := d.peers.remoteData.Load(); f != nil {
			for _, t := range topics {
				if names, ok := strings.CutPrefix(t, topicSLI); ok {
					service, _, _ := strings.Cut(names, "\t")
					(*f)(service)
				}
			}
		}
	}
}
