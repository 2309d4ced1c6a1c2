/** What happened to one customer, on the simulation's clock (hub time, epoch ms). */
export interface CustomerRecord {
  id: string;
  arrivedAt: number;
  segment?: 'vip' | 'senior';
  /** `browse`: no business at a counter; `ticket`: took a ticket; `self-serve`: went to a kiosk on their own. */
  kind: 'browse' | 'ticket' | 'self-serve';
  service?: string;
  kioskCapable: boolean;
  ticket?: string;
  /** Headquarters booked them (contract section 8): the appointment's `ref`, which their ticket carries. */
  appointment?: string;
  /** An appointment's customer: a robot came to take them to their service's zone (they keep their place in line). */
  escortedAt?: number;
  /** Joined a line: the queue system issued their ticket (its `issued` time), or (self-serve) they reached the kiosks. */
  queuedAt?: number;
  /** A robot started greeting at their entry zone while they were there. */
  greetedAt?: number;
  /** A screen of their entry zone showed the welcome while they were there. */
  welcomedAt?: number;
  /** A robot came to guide them to the kiosks (whether they followed or not). */
  guideOfferedAt?: number;
  /** They followed the robot to the kiosks: their ticket is served there. */
  diverted: boolean;
  /** Their service began, at a counter or a kiosk. */
  serviceAt?: number;
  servedAt?: number;
  servedBy?: 'counter' | 'kiosk';
  abandonedAt?: number;
  leftAt?: number;
  /** Promotions (screens, robots) that started while they waited. */
  promotionsSeen: number;
}

/** One person's stay in one zone, as the cameras' tracks tell it: `leftAt` unset if they were still there when the day ended. */
export interface ZoneVisit {
  person: string;
  zone: string;
  enteredAt: number;
  leftAt?: number;
}

/** A person's step between zones: `from` unset when they came in through the door, `to` "outside" when they left the branch. */
export interface ZoneMove {
  person: string;
  from?: string;
  to: string;
  at: number;
}

/** A condition the simulation created, which the hub should raise an alert for: `at` is when the rule says it is due. */
export interface ExpectedAlert {
  type: 'vip-arrival' | 'crowding' | 'long-wait' | 'post-unattended' | 'device-down';
  subject: string;
  at: number;
}

/** How the hub saw it: an alert as `GET /api/branches/{b}/alerts` lists it. */
export interface RaisedAlert {
  type: string;
  subject: string;
  raisedAt: string;
}

/** Everything a played day leaves for its report. */
export interface DayRecord {
  scenario: string;
  coordinated: boolean;
  scale: number;
  seed: number;
  /** The played span on the clock: open (or `from`) to when the last customer left. */
  start: number;
  end: number;
  /** The minute of the day (after midnight) that `start` is. */
  startMinute: number;
  /** Arrivals stopped (close, or `to`). */
  closedAt: number;
  customers: CustomerRecord[];
  expectedAlerts: ExpectedAlert[];
  raisedAlerts: RaisedAlert[];
  /** Each robot's, screen's and kiosk's reported statuses over the day. */
  devices: { id: string; kind: string; statusLog: { at: number; status: string }[] }[];
  /** Tasks the devices started, by type: what the hub had them do. */
  tasksStarted: Record<string, number>;
  /** The `completed` and `failed` acks the devices delivered to the hub, by task type, until they disconnected. */
  tasksEnded: Record<string, { completed: number; failed: number }>;
  /** Everybody's zones over the day (customers and groups), in order: the truth behind footfall, tracks and occupancy. */
  visits: ZoneVisit[];
  moves: ZoneMove[];
  /** The anonymous track id each person had on the wire (the hub never learns whose it is). */
  tracks: Record<string, string>;
}
