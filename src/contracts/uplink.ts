import { z } from 'zod';

/** `hq/{b}/requests` (contract section 8): headquarters books an appointment. */
/** Fields HQ may add later are ignored, not a reason to reject. */
export const appointmentRequest = z.object({
  requestId: z.string().min(1).max(64),
  type: z.literal('appointment'),
  ref: z.string().min(1).max(64),
  service: z.string().min(1).max(32),
  at: z.iso.datetime({ offset: true }),
  segment: z.string().min(1).max(32).optional(),
  note: z.string().max(500).optional(),
});
export type AppointmentRequest = z.infer<typeof appointmentRequest>;
