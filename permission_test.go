package northstar

import (
	"fmt"
	"testing"
)

// designTable is the permission table of DESIGN.md, written out again by
// hand so that a change to the code's table has to be a deliberate change
// to this one too. Columns: PM, PO, developer, stakeholder, viewer.
var designTable = map[Action][5]bool{
	ActionRead:           {true, true, true, true, true},
	ActionManageProduct:  {true, false, false, false, false},
	ActionChangeStage:    {true, false, false, false, false},
	ActionManageFeatures: {true, false, false, false, false},
	ActionProposeFeature: {true, true, false, false, false},
	ActionAddFeedback:    {true, true, true, true, false},
	ActionTriageFeedback: {true, true, false, false, false},
	ActionEditStories:    {true, true, false, false, false},
	ActionWorkStories:    {true, true, true, false, false},
	ActionAcceptStory:    {false, true, false, false, false},
	ActionComment:        {true, true, true, true, false},
}

func TestCanFollowsTheDesignTable(t *testing.T) {
	if len(designTable) != len(Actions) {
		t.Fatalf("design table has %d actions, code has %d: every action needs a row", len(designTable), len(Actions))
	}
	for _, a := range Actions {
		row, ok := designTable[a]
		if !ok {
			t.Errorf("action %s has no row in the design table", a)
			continue
		}
		for i, r := range Roles {
			if got, want := Can(false, r, a), row[i]; got != want {
				t.Errorf("Can(member %s, %s) = %v, want %v", r, a, got, want)
			}
		}
		if Can(false, "", a) {
			t.Errorf("Can(non-member, %s) = true, want false", a)
		}
		if !Can(true, "", a) {
			t.Errorf("Can(admin non-member, %s) = false, want true", a)
		}
		for _, r := range Roles {
			if !Can(true, r, a) {
				t.Errorf("Can(admin who is %s, %s) = false, want true", r, a)
			}
		}
	}
}

func TestCanOrg(t *testing.T) {
	plain := &User{ID: 1}
	admin := &User{ID: 2, Admin: true}
	disabledAdmin := &User{ID: 3, Admin: true, Disabled: true}
	none, pm, contributor := OrgStanding{}, OrgStanding{ManagesAProduct: true, GivesFeedbackSome: true}, OrgStanding{GivesFeedbackSome: true}
	tests := []struct {
		user   *User
		st     OrgStanding
		action OrgAction
		want   bool
	}{
		{plain, none, OrgCreateProduct, true},
		{plain, none, OrgInvite, false},
		{plain, pm, OrgInvite, true},
		{plain, pm, OrgManageUsers, false},
		{plain, pm, OrgManageObjectives, true},
		{plain, contributor, OrgManageObjectives, false},
		{plain, contributor, OrgEditCustomers, true},
		{plain, none, OrgEditCustomers, false},
		{plain, OrgStanding{PlansSomewhere: true}, OrgManageTeams, true},
		{plain, contributor, OrgManageTeams, false},
		{admin, none, OrgInvite, true},
		{admin, none, OrgManageUsers, true},
		{admin, none, OrgManageObjectives, true},
		{admin, none, OrgEditCustomers, true},
		{disabledAdmin, none, OrgManageUsers, false},
		{nil, none, OrgCreateProduct, false},
	}
	for _, tt := range tests {
		if got := CanOrg(tt.user, tt.st, tt.action); got != tt.want {
			t.Errorf("CanOrg(%+v, %+v, %s) = %v, want %v", tt.user, tt.st, tt.action, got, tt.want)
		}
	}
	for _, a := range OrgActions {
		if a.Description() == string(a) {
			t.Errorf("%s has no description", a)
		}
	}
}

func TestReadOnlyRule(t *testing.T) {
	for _, a := range Actions {
		want := a != ActionRead && a != ActionChangeStage
		if got := a.Writes(); got != want {
			t.Errorf("%s.Writes() = %v, want %v", a, got, want)
		}
		if a.Description() == string(a) {
			t.Errorf("%s has no description", a)
		}
	}
}

func ExampleCan() {
	fmt.Println(Can(false, RoleProductOwner, ActionAcceptStory), Can(false, RoleProductManager, ActionAcceptStory))
	// Output: true false
}
