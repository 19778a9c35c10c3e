package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/google/uuid"
)

// newClusterID is migration 9: the cluster gets a random id (a UUID, as
// Determined's), made once and kept for the life of the database.
func newClusterID(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, "INSERT INTO cluster(id) VALUES(?)", uuid.NewString())
	return err
}

// ClusterID returns the cluster's id, made when the database was.
func (s *Store) ClusterID(ctx context.Context) (string, error) {
	var id string
	if err := s.db.QueryRowContext(ctx, "SELECT id FROM cluster LIMIT 1").Scan(&id); err != nil {
		return "", fmt.Errorf("read the cluster id: %w", err)
	}
	return id, nil
}
