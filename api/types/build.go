package types

import "time"

// BuildCache is one build cache record in GET /system/df and POST /build/prune.
type BuildCache struct {
	ID          string
	Parents     []string `json:",omitempty"`
	Type        string
	Description string
	InUse       bool
	Shared      bool
	Size        int64
	CreatedAt   time.Time
	LastUsedAt  *time.Time
	UsageCount  int
}

// BuildCachePruneReport is the reply of POST /build/prune.
type BuildCachePruneReport struct {
	CachesDeleted  []string
	SpaceReclaimed uint64
}

// BuildStepAux is the aux key of berth's extension of the legacy build stream: step events for
// BuildKit-style displays. Docker clients read aux payloads as build results and ignore it.
const BuildStepAux = "berthStep"

// BuildStep is one step starting (Done false) or ending.
type BuildStep struct {
	N      int    `json:"n"`     // 1-based, over the whole build
	Total  int    `json:"total"` // steps in the build
	Stage  string `json:"stage,omitempty"`
	Index  int    `json:"index"` // 1-based within the stage
	Count  int    `json:"count"` // steps in the stage
	Text   string `json:"text"`  // the instruction as written
	Done   bool   `json:"done,omitempty"`
	Cached bool   `json:"cached,omitempty"`
	Millis int64  `json:"ms,omitempty"` // duration, on the end event
	Error  string `json:"error,omitempty"`
}
