package kruise

import (
	"context"
	"fmt"

	kruisev1alpha1 "github.com/openkruise/kruise-api/apps/v1alpha1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// CloneSets reads CloneSets and writes them with optimistic concurrency: a write based on
// a stale read fails with a conflict.
type CloneSets struct {
	// Reader reads CloneSets: the controller gives it the manager's cache and waits for
	// the cache to show its own writes (autoscaler/controller's expectations).
	Reader client.Reader
	// Writer updates CloneSets.
	Writer client.Writer
}

// Get returns the CloneSet; a missing one is an error matching apierrors.IsNotFound.
func (c *CloneSets) Get(ctx context.Context, key types.NamespacedName) (*kruisev1alpha1.CloneSet, error) {
	var cs kruisev1alpha1.CloneSet
	if err := c.Reader.Get(ctx, key, &cs); err != nil {
		return nil, fmt.Errorf("getting CloneSet %s: %w", key, err)
	}
	return &cs, nil
}

// Scale sets replicas and adds podsToDelete in one update of the CloneSet as it was read:
// if someone changed it since, the update fails with a conflict (apierrors.IsConflict)
// and nothing is written. Names already listed are not repeated.
func (c *CloneSets) Scale(ctx context.Context, cs *kruisev1alpha1.CloneSet, replicas int32, podsToDelete []string) error {
	updated := cs.DeepCopy()
	updated.Spec.Replicas = &replicas
	listed := map[string]bool{}
	for _, n := range updated.Spec.ScaleStrategy.PodsToDelete {
		listed[n] = true
	}
	for _, n := range podsToDelete {
		if !listed[n] {
			updated.Spec.ScaleStrategy.PodsToDelete = append(updated.Spec.ScaleStrategy.PodsToDelete, n)
			listed[n] = true
		}
	}
	if err := c.Writer.Update(ctx, updated); err != nil {
		return fmt.Errorf("updating CloneSet %s/%s to %d replicas deleting %v: %w", cs.Namespace, cs.Name, replicas, podsToDelete, err)
	}
	return nil
}
