package config

import (
	"github.com/dyvms-community/dyvms_exporter/apiclient"
	"github.com/dyvms-community/dyvms_exporter/credentials"
)

// CredentialsProvider builds the provider the file asks for: the vendor's
// default chain without a credentials section, a fixed key when everything
// is inline, and file-backed credentials as soon as one part is in a file,
// so that rotating that file needs no reload. Call it once per loaded
// Config and keep the result: the chain and the file provider cache.
func (c *Config) CredentialsProvider() (apiclient.CredentialsProvider, error) {
	cr := c.Credentials
	if cr == nil {
		return credentials.NewChain(), nil
	}
	if cr.AccessKeyIDFile == "" && cr.AccessKeySecretFile == "" && cr.SecurityTokenFile == "" {
		return credentials.NewStatic(cr.AccessKeyID, string(cr.AccessKeySecret), string(cr.SecurityToken)), nil
	}
	return credentials.NewFiles(credentials.FilesConfig{
		AccessKeyID:         cr.AccessKeyID,
		AccessKeyIDFile:     cr.AccessKeyIDFile,
		AccessKeySecret:     string(cr.AccessKeySecret),
		AccessKeySecretFile: cr.AccessKeySecretFile,
		SecurityToken:       string(cr.SecurityToken),
		SecurityTokenFile:   cr.SecurityTokenFile,
	})
}
