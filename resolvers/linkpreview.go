package resolvers

// previewText is s, or nil (GraphQL null) when it is empty.
func previewText(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
