package northstar

// Action is something a person may or may not do in a product.
type Action string

// The product actions, one per row of the permission table in DESIGN.md.
const (
	ActionRead           Action = "read"            // product, roadmap, backlog, board
	ActionManageProduct  Action = "manage_product"  // vision, objectives, personas, members
	ActionChangeStage    Action = "change_stage"    // lifecycle stage
	ActionManageFeatures Action = "manage_features" // features: create, score, place on roadmap, releases
	ActionProposeFeature Action = "propose_feature" // features: propose
	ActionAddFeedback    Action = "add_feedback"    // feedback: add
	ActionTriageFeedback Action = "triage_feedback" // feedback: triage, link to features
	ActionEditStories    Action = "edit_stories"    // stories: create, edit, order backlog, plan/close sprints
	ActionWorkStories    Action = "work_stories"    // stories: estimate, change status, tasks
	ActionAcceptStory    Action = "accept_story"    // accept a story as done
	ActionComment        Action = "comment"         // comment on any item
)

// Actions lists every product action, for tests and documentation.
var Actions = []Action{
	ActionRead, ActionManageProduct, ActionChangeStage, ActionManageFeatures, ActionProposeFeature,
	ActionAddFeedback, ActionTriageFeedback, ActionEditStories, ActionWorkStories,
	ActionAcceptStory, ActionComment,
}

// permissions is the table from DESIGN.md: which roles may do each action.
// Org admins may do everything and are not listed.
var permissions = map[Action][]Role{
	ActionRead:           {RoleProductManager, RoleProductOwner, RoleDeveloper, RoleStakeholder, RoleViewer},
	ActionManageProduct:  {RoleProductManager},
	ActionChangeStage:    {RoleProductManager},
	ActionManageFeatures: {RoleProductManager},
	ActionProposeFeature: {RoleProductManager, RoleProductOwner},
	ActionAddFeedback:    {RoleProductManager, RoleProductOwner, RoleDeveloper, RoleStakeholder},
	ActionTriageFeedback: {RoleProductManager, RoleProductOwner},
	ActionEditStories:    {RoleProductManager, RoleProductOwner},
	ActionWorkStories:    {RoleProductManager, RoleProductOwner, RoleDeveloper},
	ActionAcceptStory:    {RoleProductOwner},
	ActionComment:        {RoleProductManager, RoleProductOwner, RoleDeveloper, RoleStakeholder},
}

// Can decides every product permission: whether a person with the given
// role in a product (or "" for none) may perform the action. Admins may do
// everything. This is the only place where the rule lives.
func Can(admin bool, role Role, a Action) bool {
	if admin {
		return true
	}
	for _, r := range permissions[a] {
		if r == role {
			return true
		}
	}
	return false
}

// Writes reports whether the action changes the product, and so is refused
// while the product is read-only. Changing the stage is how a retired
// product becomes writable again, so it is never refused.
func (a Action) Writes() bool { return a != ActionRead && a != ActionChangeStage }

// Description says what the action allows, for messages.
func (a Action) Description() string {
	switch a {
	case ActionRead:
		return "read this product"
	case ActionManageProduct:
		return "change the product's vision, strategy or members"
	case ActionChangeStage:
		return "change the product's lifecycle stage"
	case ActionManageFeatures:
		return "create, score or schedule features and releases"
	case ActionProposeFeature:
		return "propose features"
	case ActionAddFeedback:
		return "add feedback"
	case ActionTriageFeedback:
		return "triage feedback or link it to features"
	case ActionEditStories:
		return "create, edit or order stories, or plan sprints"
	case ActionWorkStories:
		return "estimate stories, change their status or edit tasks"
	case ActionAcceptStory:
		return "accept stories as done"
	case ActionComment:
		return "comment on items"
	}
	return string(a)
}

// OrgAction is something a person may or may not do in the organization.
type OrgAction string

// The organization actions.
const (
	OrgCreateProduct    OrgAction = "create_product"    // anyone signed in
	OrgInvite           OrgAction = "invite"            // admins and product managers
	OrgManageUsers      OrgAction = "manage_users"      // admins: users, open sign-up
	OrgManageObjectives OrgAction = "manage_objectives" // company objectives: admins and product managers
	OrgEditCustomers    OrgAction = "edit_customers"    // admins and anyone who may add feedback somewhere
	OrgManageTeams      OrgAction = "manage_teams"      // teams: admins, product managers and product owners
)

// OrgActions lists every organization action, for tests.
var OrgActions = []OrgAction{OrgCreateProduct, OrgInvite, OrgManageUsers, OrgManageObjectives, OrgEditCustomers, OrgManageTeams}

// Description says what the action allows, for messages.
func (a OrgAction) Description() string {
	switch a {
	case OrgCreateProduct:
		return "create products"
	case OrgInvite:
		return "invite people (admins and product managers may)"
	case OrgManageUsers:
		return "manage users (admins only)"
	case OrgManageObjectives:
		return "change company objectives (admins and product managers may)"
	case OrgEditCustomers:
		return "change customers (admins and people who record feedback may)"
	case OrgManageTeams:
		return "create or change teams (admins, product managers and product owners may)"
	}
	return string(a)
}

// OrgStanding is what decides a person's organization-level rights
// besides being an admin: the roles they hold across products.
type OrgStanding struct {
	ManagesAProduct   bool // product manager of at least one product
	GivesFeedbackSome bool // may add feedback in at least one product
	PlansSomewhere    bool // may plan sprints in at least one product
}

// CanOrg decides organization-level permissions.
func CanOrg(u *User, st OrgStanding, a OrgAction) bool {
	if u == nil || u.Disabled {
		return false
	}
	if u.Admin {
		return true
	}
	switch a {
	case OrgCreateProduct:
		return true
	case OrgInvite, OrgManageObjectives:
		return st.ManagesAProduct
	case OrgEditCustomers:
		return st.GivesFeedbackSome
	case OrgManageTeams:
		return st.PlansSomewhere
	}
	return false
}
