package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"messenger/storage"
)

// Deletion: what happens to each part of an account (docs/lifecycle.md).
//
//   - At once, in the request: the account becomes a tombstone (display
//     name "Deleted account", username "deleted", no password), every
//     session ends, and tokens are refused.
//   - Then, as a job that resumes after a crash: every message the user
//     sent, in every conversation they are still a member of, becomes a
//     tombstone for everyone (body erased, attachments' bytes deleted,
//     search updated); their uploads and stories are deleted (Media);
//     their privacy settings and blocks are forgotten (Privacy); their
//     export archives are deleted.
//   - After UsernameQuarantine: their username is released.
//
// The tombstone keeps its id and its memberships, so conversations still
// show who was there ("Deleted account"), as in Telegram.

// The steps of a deletion job, in order; "messages" carries a resume point.
const (
	stepAccount  = ""
	stepMessages = "messages"
	stepMedia    = "media"
	stepPrivacy  = "privacy"
	stepExports  = "exports"
	stepUsername = "username"
)

// erasePage is how many messages one step of the erasure reads.
const erasePage = 200

// Deletion is what DeleteAccount reports.
type Deletion struct {
	// JobID is the erasure job's id.
	JobID string
	// DeletedAt is when the account became a tombstone.
	DeletedAt time.Time
	// UsernameReleasedAt is when others may take the username.
	UsernameReleasedAt time.Time
}

// DeleteAccount deletes me's account after checking their password: the
// account is a tombstone and its sessions are over when it returns; the
// rest of the erasure runs as a job (see the steps above). Deleting an
// account already being deleted returns its job.
func (s *Service) DeleteAccount(ctx context.Context, me, password string) (Deletion, error) {
	if err := s.cfg.Domain.CheckPassword(ctx, me, password); err != nil {
		return Deletion{}, err
	}
	return s.deleteAccount(ctx, me)
}

// DeleteAccountByOperator deletes userID's account without a password
// (the admin command).
func (s *Service) DeleteAccountByOperator(ctx context.Context, userID string) (Deletion, error) {
	if _, err := s.user(ctx, userID); err != nil {
		return Deletion{}, err
	}
	return s.deleteAccount(ctx, userID)
}

func (s *Service) deleteAccount(ctx context.Context, userID string) (Deletion, error) {
	// The job first: once it exists, a crash anywhere below is finished
	// by the job's first step.
	j, _, err := s.store.CreateJob(ctx, s.newJob(userID, storage.JobDeleteAccount))
	if err != nil {
		return Deletion{}, fmt.Errorf("lifecycle: create deletion job: %w", err)
	}
	if err := s.endAccount(ctx, userID); err != nil {
		return Deletion{}, err
	}
	s.jobs.Wake()
	u, err := s.user(ctx, userID)
	if err != nil {
		return Deletion{}, err
	}
	return Deletion{JobID: j.ID, DeletedAt: u.DeletedAt, UsernameReleasedAt: u.DeletedAt.Add(s.cfg.UsernameQuarantine)}, nil
}

// endAccount makes the tombstone and ends the sessions.
func (s *Service) endAccount(ctx context.Context, userID string) error {
	if err := s.store.TombstoneUser(ctx, userID, s.now()); err != nil {
		return fmt.Errorf("lifecycle: tombstone %s: %w", userID, err)
	}
	s.cfg.Domain.AccountChanged(userID)
	if err := s.cfg.Sessions.RevokeAllSessions(ctx, userID); err != nil {
		return fmt.Errorf("lifecycle: end the sessions of %s: %w", userID, err)
	}
	return nil
}

// runDelete is the deletion job's Handler.
func (s *Service) runDelete(ctx context.Context, j *storage.Job, step func(string) error) error {
	userID := j.UserID
	if j.Progress == stepAccount {
		if err := s.endAccount(ctx, userID); err != nil {
			return err
		}
		if err := step(stepMessages); err != nil {
			return err
		}
	}
	if strings.HasPrefix(j.Progress, stepMessages) {
		if err := s.eraseMessages(ctx, userID, strings.TrimPrefix(strings.TrimPrefix(j.Progress, stepMessages), ":"), step); err != nil {
			return err
		}
		if err := step(stepMedia); err != nil {
			return err
		}
	}
	if j.Progress == stepMedia {
		if s.cfg.Media != nil {
			if err := s.cfg.Media.EraseUserMedia(ctx, userID); err != nil {
				return fmt.Errorf("lifecycle: erase the media of %s: %w", userID, err)
			}
		}
		if err := step(stepPrivacy); err != nil {
			return err
		}
	}
	if j.Progress == stepPrivacy {
		if err := s.cfg.Privacy.ForgetPrivacy(ctx, userID); err != nil {
			return fmt.Errorf("lifecycle: forget the privacy of %s: %w", userID, err)
		}
		if err := step(stepExports); err != nil {
			return err
		}
	}
	if j.Progress == stepExports {
		if err := s.dropExport(ctx, userID); err != nil {
			return err
		}
		if err := step(stepUsername); err != nil {
			return err
		}
	}
	u, err := s.user(ctx, userID)
	if err != nil {
		return err
	}
	if release := u.DeletedAt.Add(s.cfg.UsernameQuarantine); s.cfg.Now().Before(release) {
		return &Later{At: release}
	}
	if err := s.store.ReleaseUsername(ctx, u.UsernameKey, userID); err != nil {
		return fmt.Errorf("lifecycle: release the username of %s: %w", userID, err)
	}
	return nil
}

// eraseMessages tombstones every message userID sent in the conversations
// they are in, in conversation id order, from resume ("<conv>:<seq>": the
// last one done), recording a step after each page.
func (s *Service) eraseMessages(ctx context.Context, userID, resume string, step func(string) error) error {
	convs, err := s.store.UserConversationIDs(ctx, userID)
	if err != nil {
		return fmt.Errorf("lifecycle: conversations of %s: %w", userID, err)
	}
	slices.Sort(convs)
	fromConv, fromSeq := parseResume(resume)
	for _, c := range convs {
		if c < fromConv {
			continue
		}
		after := int64(0)
		if c == fromConv {
			after = fromSeq
		}
		for {
			page, err := s.store.ListMessages(ctx, c, "", after, 0, erasePage, false)
			if err != nil {
				return fmt.Errorf("lifecycle: history of %s: %w", c, err)
			}
			for _, m := range page {
				if m.SenderID == userID {
					if err := s.cfg.Domain.EraseMessage(ctx, m); err != nil {
						return err
					}
				}
				after = m.Seq
			}
			if err := step(stepMessages + ":" + c + ":" + strconv.FormatInt(after, 10)); err != nil {
				return err
			}
			if len(page) < erasePage {
				break
			}
		}
	}
	return nil
}

func parseResume(p string) (conv string, seq int64) {
	i := strings.LastIndexByte(p, ':')
	if i < 0 {
		return p, 0
	}
	n, err := strconv.ParseInt(p[i+1:], 10, 64)
	if err != nil {
		return p[:i], 0
	}
	return p[:i], n
}

// dropExport deletes userID's latest export archive, if any.
func (s *Service) dropExport(ctx context.Context, userID string) error {
	j, err := s.store.LatestJob(ctx, userID, storage.JobExport)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && j.BlobKey == "") || s.cfg.Blobs == nil {
		return nil
	}
	if err != nil {
		return fmt.Errorf("lifecycle: export of %s: %w", userID, err)
	}
	if err := s.cfg.Blobs.Delete(ctx, j.BlobKey); err != nil {
		return fmt.Errorf("lifecycle: delete archive %s: %w", j.BlobKey, err)
	}
	return nil
}
