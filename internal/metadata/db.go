// Package metadata is berth's transactional record store on bbolt. Records are JSON values in named
// buckets; a bbolt commit is fsynced, so a crash leaves either the old or the new state of a transaction.
package metadata

import (
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// DB is an open metadata database.
type DB struct {
	bolt *bolt.DB
}

// Open opens or creates the database file at path.
func Open(path string) (*DB, error) {
	b, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("open metadata %s: %w", path, err)
	}
	return &DB{bolt: b}, nil
}

// Close closes the database.
func (db *DB) Close() error { return db.bolt.Close() }

// Update runs fn in a read-write transaction, committed only if fn returns nil.
func (db *DB) Update(fn func(*Tx) error) error {
	return db.bolt.Update(func(t *bolt.Tx) error { return fn(&Tx{t: t}) })
}

// View runs fn in a read-only transaction.
func (db *DB) View(fn func(*Tx) error) error {
	return db.bolt.View(func(t *bolt.Tx) error { return fn(&Tx{t: t}) })
}

// Tx is one transaction.
type Tx struct {
	t *bolt.Tx
}

// Get decodes the record at bucket/key into v and reports whether it exists.
func (tx *Tx) Get(bucket, key string, v any) (bool, error) {
	b := tx.t.Bucket([]byte(bucket))
	if b == nil {
		return false, nil
	}
	raw := b.Get([]byte(key))
	if raw == nil {
		return false, nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return true, fmt.Errorf("decode %s/%s: %w", bucket, key, err)
	}
	return true, nil
}

// Put stores v as JSON at bucket/key.
func (tx *Tx) Put(bucket, key string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	b, err := tx.t.CreateBucketIfNotExists([]byte(bucket))
	if err != nil {
		return err
	}
	return b.Put([]byte(key), raw)
}

// Delete removes bucket/key; a missing key is not an error.
func (tx *Tx) Delete(bucket, key string) error {
	b := tx.t.Bucket([]byte(bucket))
	if b == nil || !tx.t.Writable() {
		return nil
	}
	return b.Delete([]byte(key))
}

// ForEach calls fn with every key and raw JSON value of bucket, in key order.
func (tx *Tx) ForEach(bucket string, fn func(key string, raw []byte) error) error {
	b := tx.t.Bucket([]byte(bucket))
	if b == nil {
		return nil
	}
	return b.ForEach(func(k, v []byte) error { return fn(string(k), v) })
}
