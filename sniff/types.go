package sniff

import "strings"

// extensions lists, for each content type Inspect reports, the file name
// extensions a file of that type goes by, the canonical one (Content.Ext)
// first.
var extensions = map[string][]string{
	"image/png":                {"png"},
	"image/jpeg":               {"jpg", "jpeg", "jpe", "jfif"},
	"image/gif":                {"gif"},
	"image/webp":               {"webp"},
	"image/svg+xml":            {"svg"},
	"application/pdf":          {"pdf"},
	"application/msword":       {"doc"},
	"application/vnd.ms-excel": {"xls"},
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document": {"docx"},
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":       {"xlsx"},
	"text/csv":        {"csv"},
	"video/mp4":       {"mp4", "m4v"},
	"video/quicktime": {"mov", "qt"},
	"audio/ogg":       {"ogg", "opus", "oga"},
	"audio/mpeg":      {"mp3"},
	"audio/mp4":       {"m4a", "mp4"},
}

// Extensions returns the file name extensions (lower case, without a dot)
// of a content type Inspect reports, the canonical one first; nil for any
// other type.
func Extensions(contentType string) []string {
	return extensions[strings.ToLower(contentType)]
}
