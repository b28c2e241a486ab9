package model

// ActivationBytes estimates what the layers of a recording forward keep for
// backward over tokens tokens: per layer and token the two norms' outputs,
// q, k, v before and after rotation, attention's output and row
// statistics, the projections, the MLP's gate, up and product, and the two
// residual sums, in float32: what runconfig.CheckpointMode.On decides
// checkpointing on.
func (c Config) ActivationBytes(tokens int) int64 {
	d, ff, hd := int64(c.Hidden), int64(c.Intermediate), int64(c.HeadDim())
	q, kv := int64(c.Heads)*hd, int64(c.KVHeads)*hd
	perToken := 2*(d+1) + 2*q + 3*kv + q + int64(c.Heads) + 2*d + 3*ff + 2*d
	return 4 * perToken * int64(tokens) * int64(c.Layers)
}
