package northstar

import (
	"strings"
	"time"
)

// Role is a person's role in one product.
type Role string

// The product roles, from most to least powerful.
const (
	RoleProductManager Role = "product_manager"
	RoleProductOwner   Role = "product_owner"
	RoleDeveloper      Role = "developer"
	RoleStakeholder    Role = "stakeholder"
	RoleViewer         Role = "viewer"
)

// Roles lists the product roles.
var Roles = []Role{RoleProductManager, RoleProductOwner, RoleDeveloper, RoleStakeholder, RoleViewer}

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	for _, x := range Roles {
		if x == r {
			return true
		}
	}
	return false
}

// Label returns the role name for people.
func (r Role) Label() string {
	switch r {
	case RoleProductManager:
		return "Product manager"
	case RoleProductOwner:
		return "Product owner"
	case RoleDeveloper:
		return "Developer"
	case RoleStakeholder:
		return "Stakeholder"
	case RoleViewer:
		return "Viewer"
	}
	return string(r)
}

// RoleList returns the roles as a comma-separated list for messages.
func RoleList() string {
	names := make([]string, len(Roles))
	for i, r := range Roles {
		names[i] = string(r)
	}
	return strings.Join(names, ", ")
}

// Member is a user's membership of a product.
type Member struct {
	UserID    int64     `json:"-"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Role      Role      `json:"role"`
	CreatedAt time.Time `json:"created_at"`
}
