package cli

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/app"
)

type userCmd struct {
	env      Env
	db       dbFlags
	email    string
	name     string
	password string
	admin    bool
}

func (c *userCmd) flags() *flag.FlagSet {
	fs := flag.NewFlagSet("user", flag.ContinueOnError)
	c.db.register(fs)
	fs.StringVar(&c.email, "email", "", "the account's email")
	fs.StringVar(&c.name, "name", "", "the account's name (create)")
	fs.StringVar(&c.password, "password", "", "the new password (create, reset-password); a random one is generated and printed when empty")
	fs.BoolVar(&c.admin, "admin", false, "make the new account an org admin (create)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), `Usage: northstar user [flags] create|list|reset-password|make-admin

  create          --email --name [--password] [--admin]
  list
  reset-password  --email [--password]   (signs the account out everywhere)
  make-admin      --email`)
		fs.PrintDefaults()
	}
	return fs
}

func (c *userCmd) run(ctx context.Context, args []string) error {
	if len(args) != 1 {
		return errUsage
	}
	a, db, err := c.db.openApp(ctx, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return err
	}
	defer db.Close()
	ctx = app.SystemContext(ctx)
	switch args[0] {
	case "create":
		generated := c.password == ""
		if generated {
			c.password = randomPassword()
		}
		u, err := a.CreateUser(ctx, northstar.NewUser{Email: c.email, Name: c.name, Password: c.password}, c.admin)
		if err != nil {
			return describe(err)
		}
		fmt.Fprintf(c.env.Stdout, "created %s <%s>%s\n", u.Name, u.Email, map[bool]string{true: " (admin)"}[u.Admin])
		if generated {
			fmt.Fprintf(c.env.Stdout, "password: %s\n", c.password)
		}
	case "list":
		users, err := a.Users(ctx)
		if err != nil {
			return describe(err)
		}
		w := tabwriter.NewWriter(c.env.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "EMAIL\tNAME\tADMIN\tDISABLED\tCREATED")
		for _, u := range users {
			fmt.Fprintf(w, "%s\t%s\t%v\t%v\t%s\n", u.Email, u.Name, u.Admin, u.Disabled, u.CreatedAt.Format("2006-01-02"))
		}
		return w.Flush()
	case "reset-password":
		if c.email == "" {
			return fmt.Errorf("--email is required")
		}
		generated := c.password == ""
		if generated {
			c.password = randomPassword()
		}
		u, err := a.ChangeUser(ctx, c.email, app.UserChange{Password: &c.password})
		if err != nil {
			return describe(err)
		}
		fmt.Fprintf(c.env.Stdout, "password of %s reset; their sessions are signed out\n", u.Email)
		if generated {
			fmt.Fprintf(c.env.Stdout, "password: %s\n", c.password)
		}
	case "make-admin":
		if c.email == "" {
			return fmt.Errorf("--email is required")
		}
		yes := true
		u, err := a.ChangeUser(ctx, c.email, app.UserChange{Admin: &yes})
		if err != nil {
			return describe(err)
		}
		fmt.Fprintf(c.env.Stdout, "%s is now an org admin\n", u.Email)
	default:
		return errUsage
	}
	return nil
}

// describe turns an application error into its message for the terminal.
func describe(err error) error {
	if northstar.ErrorCode(err) == northstar.EINTERNAL {
		return err
	}
	return fmt.Errorf("%s", northstar.ErrorMessage(err))
}

// randomPassword returns a 20-character password from an unambiguous alphabet.
func randomPassword() string {
	const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 20)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
