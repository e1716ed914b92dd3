package credentials

import (
	"github.com/dyvms-community/dyvms_exporter/apiclient"
	"github.com/dyvms-community/dyvms_exporter/config"
)

// FromConfig builds the provider a credentials section asks for: the
// vendor's default chain without one (nil), a fixed key when everything is
// inline, and file-backed credentials as soon as one part is in a file, so
// that rotating that file needs no reload. Call it once per loaded
// configuration and keep the result: the chain and the file provider cache.
func FromConfig(cr *config.Credentials) (apiclient.CredentialsProvider, error) {
	if cr == nil {
		return NewChain(), nil
	}
	if cr.AccessKeyIDFile == "" && cr.AccessKeySecretFile == "" && cr.SecurityTokenFile == "" {
		return NewStatic(cr.AccessKeyID, string(cr.AccessKeySecret), string(cr.SecurityToken)), nil
	}
	return NewFiles(FilesConfig{
		AccessKeyID:         cr.AccessKeyID,
		AccessKeyIDFile:     cr.AccessKeyIDFile,
		AccessKeySecret:     string(cr.AccessKeySecret),
		AccessKeySecretFile: cr.AccessKeySecretFile,
		SecurityToken:       string(cr.SecurityToken),
		SecurityTokenFile:   cr.SecurityTokenFile,
	})
}
