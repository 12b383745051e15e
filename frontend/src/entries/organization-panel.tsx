import { OrganizationPanel } from '../pages/OrganizationPanel';
import { start } from '../shell';

void start((context) => <OrganizationPanel {...context} />);
